"""LockstepClient against the in-test fake bridge: handshake, frame ids, liveness, screens, episode ends, close codes."""
import asyncio
import unittest

from fake_bridge import TOKEN, FakeBridge, screen_frame

from lockstep_client import (
    EpisodeEnd, LockstepClient, LockstepConnectionClosed, decode_screen_frame, make_url, names_to_mask, resolve_action_set,
)


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_handshake_state_and_action_frame_ids(self):
        got = {}

        async def scenario(conn):
            if not await conn.authenticate(vars=("x", "score"), max_steps=50):
                return
            await conn.state(100, 0, 0, {"x": 3, "score": 7}, reward=0.5)
            got["action"] = await conn.expect("action")
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepClient(name="tester")
            welcome = await client.connect(bridge.url, token=TOKEN, player=1, screen="gray")
            self.assertEqual(welcome["player"], 1)
            self.assertEqual(client.vars, ["x", "score"])
            self.assertEqual(client.max_steps, 50)
            hello = bridge.conns[0].hello_msg
            self.assertEqual(hello, {"type": "hello", "role": "agent", "protocol": 1, "token": TOKEN, "name": "tester",
                                     "player": 1, "screen": {"format": "gray", "downsample": 1}})
            state = await client.recv_state(timeout=5)
            self.assertEqual((state.frame, state.step, state.episode, state.reward), (100, 0, 0, 0.5))
            self.assertEqual(state.vars, {"x": 3, "score": 7})
            await client.send_action(state.frame, ["right", "A"])
            await client.close()
        self.assertEqual(got["action"], {"type": "action", "frame": 100, "buttons": 0x81})
        self.assertEqual(bridge.errors, [])

    async def test_refused_token_reports_code_and_reason(self):
        async def scenario(conn):
            await conn.authenticate()

        with FakeBridge(scenario) as bridge:
            client = LockstepClient()
            with self.assertRaises(LockstepConnectionClosed) as ctx:
                await client.connect(bridge.url, token="wrong")
        self.assertEqual(ctx.exception.code, 4001)
        self.assertIn("invalid session token", str(ctx.exception))
        self.assertFalse(ctx.exception.retryable)

    async def test_token_in_url_is_not_overridden_by_an_empty_hello_token(self):
        async def scenario(conn):
            await conn.hello()
            await conn.ws.close(1000, "done")

        with FakeBridge(scenario) as bridge:
            client = LockstepClient()
            with self.assertRaises(LockstepConnectionClosed):
                await client.connect(bridge.url + "?token=" + TOKEN)
            self.assertNotIn("token", bridge.conns[0].hello_msg)

    async def test_answers_heartbeat_and_ping_and_measures_its_own_ping(self):
        got = {}
        ticks = iter([5000.0, 5000.0, 6000.0, 6010.0])

        async def scenario(conn):
            await conn.authenticate()
            await conn.send({"type": "heartbeat", "seq": 9, "timestamp": 1.0})
            got["ack"] = await conn.expect("heartbeat_ack")
            await conn.send({"type": "ping", "id": 4, "t0": 42.0})
            got["pong"] = await conn.expect("pong")
            ping = await conn.expect("ping")
            await conn.send({"type": "pong", "id": ping["id"], "t0": ping["t0"], "t1": 9000.0})
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepClient(clock_ms=lambda: next(ticks))
            await client.connect(bridge.url, token=TOKEN)
            for _ in range(100):
                if "pong" in got:
                    break
                await asyncio.sleep(0.02)
            rtt = await client.ping(timeout=5)
            await client.close()
        self.assertEqual(got["ack"]["seq"], 9)
        self.assertEqual(got["ack"]["timestamp"], 5000.0)
        self.assertEqual((got["pong"]["id"], got["pong"]["t0"], got["pong"]["t1"]), (4, 42.0, 5000.0))
        self.assertEqual(rtt, 10.0)
        self.assertEqual(client.clock_offset_ms, 9000.0 - (6000.0 + 5.0))

    async def test_screen_frame_is_attached_to_its_state(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.state(7, 0, 0, {"x": 1, "score": 0}, screen=True)
            await conn.ws.send(screen_frame(7, 32, 30, "gray", 200))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepClient()
            await client.connect(bridge.url, token=TOKEN, screen={"format": "gray", "downsample": 8})
            state = await client.recv_state(timeout=5)
            await client.close()
        self.assertEqual((state.screen.frame, state.screen.width, state.screen.height), (7, 32, 30))
        self.assertEqual(state.screen.shape, (30, 32))
        self.assertEqual(set(state.screen.pixels), {200})

    async def test_a_screen_for_the_wrong_frame_closes_the_link_naming_both_frames(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.state(7, 0, 0, {"x": 1, "score": 0}, screen=True)
            await conn.ws.send(screen_frame(8, 32, 30, "gray", 0))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepClient()
            await client.connect(bridge.url, token=TOKEN, screen={"format": "gray", "downsample": 8})
            with self.assertRaises(LockstepConnectionClosed) as ctx:
                await client.recv(timeout=5)
        self.assertEqual(ctx.exception.code, 1002)
        self.assertIn("frame 8", str(ctx.exception))
        self.assertIn("frame 7", str(ctx.exception))

    async def test_episode_end_then_quit(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.episode_end(2, 340, 40, "done_flag")
            await conn.send({"type": "quit", "code": 1000, "reason": "session ended"})
            await conn.ws.close(1000, "session ended")

        with FakeBridge(scenario) as bridge:
            client = LockstepClient()
            await client.connect(bridge.url, token=TOKEN)
            end = await client.recv(timeout=5)
            with self.assertRaises(LockstepConnectionClosed) as ctx:
                await client.recv(timeout=5)
            with self.assertRaises(LockstepConnectionClosed):
                await client.recv(timeout=5)
        self.assertIsInstance(end, EpisodeEnd)
        self.assertEqual((end.episode, end.termination_frame, end.rows, end.reason), (2, 340, 40, "done_flag"))
        self.assertTrue(end.terminated)
        self.assertFalse(end.truncated)
        self.assertTrue(ctx.exception.quit)
        self.assertEqual(ctx.exception.code, 1000)
        self.assertFalse(ctx.exception.retryable)

    async def test_unreachable_bridge_is_a_clear_error(self):
        from lockstep_client import LockstepError
        with FakeBridge(lambda conn: asyncio.sleep(0)) as bridge:
            port = bridge.port
        client = LockstepClient(open_timeout=2)
        with self.assertRaises(LockstepError) as ctx:
            await client.connect("ws://127.0.0.1:%d/agent" % port, token=TOKEN)
        self.assertIn("cannot reach the Lockstep bridge", str(ctx.exception))


class HelpersTest(unittest.TestCase):
    def test_buttons_and_action_sets(self):
        self.assertEqual(names_to_mask(["A", "b", "R"]), 0x83)
        self.assertEqual(names_to_mask("RIGHT+A"), 0x81)
        self.assertEqual(names_to_mask(["NOOP"]), 0)
        with self.assertRaisesRegex(ValueError, "unknown button 'JUMP'"):
            names_to_mask(["JUMP"])
        simple = resolve_action_set("simple")
        self.assertEqual(simple[:3], [0, 0x80, 0x40])
        self.assertEqual(len(simple), len(set(simple)))
        self.assertEqual(resolve_action_set("full"), list(range(256)))
        self.assertEqual(resolve_action_set([0, ["UP"], "LEFT+B"]), [0, 0x10, 0x42])
        with self.assertRaisesRegex(ValueError, r"action_set\[1\]: button mask must be 0..255"):
            resolve_action_set([0, 300])
        with self.assertRaisesRegex(ValueError, "unknown action_set 'fancy'"):
            resolve_action_set("fancy")

    def test_make_url(self):
        self.assertEqual(make_url("9000"), "ws://127.0.0.1:9000/agent")
        self.assertEqual(make_url("localhost:9000"), "ws://localhost:9000/agent")
        self.assertEqual(make_url("ws://127.0.0.1:9000/agent?token=x"), "ws://127.0.0.1:9000/agent?token=x")
        self.assertEqual(make_url(host="127.0.0.1", port=1), "ws://127.0.0.1:1/agent")
        with self.assertRaisesRegex(ValueError, "no bridge address"):
            make_url()

    def test_decode_screen_frame_errors(self):
        frame = screen_frame(3, 2, 2, "rgba", 9)
        self.assertEqual(decode_screen_frame(frame).shape, (2, 2, 4))
        with self.assertRaisesRegex(ValueError, "needs 16 pixel bytes, got 15"):
            decode_screen_frame(frame[:-1])
        with self.assertRaisesRegex(ValueError, "not a screen frame"):
            decode_screen_frame(b"XXXX" + frame[4:])


if __name__ == "__main__":
    unittest.main()
