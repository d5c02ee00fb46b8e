"""LockstepSyncClient (LockstepEnv's thread-less link) against the fake bridge: refusals, heartbeats, screens, final states."""
import threading
import unittest

from fake_bridge import TOKEN, FakeBridge, screen_frame

from lockstep_client import EpisodeEnd, LockstepConnectionClosed, LockstepError, LockstepSyncClient


class SyncClientTest(unittest.TestCase):
    def test_refused_token_is_one_clear_error_with_the_bridge_code(self):
        async def scenario(conn):
            await conn.authenticate()

        with FakeBridge(scenario) as bridge:
            with self.assertRaises(LockstepConnectionClosed) as ctx:
                LockstepSyncClient().connect(bridge.url, token="wrong")
        self.assertEqual(ctx.exception.code, 4001)
        self.assertIn("invalid session token", str(ctx.exception))
        self.assertFalse(ctx.exception.retryable)

    def test_heartbeat_answered_inside_recv_and_frameskip_in_the_hello(self):
        got = {}

        async def scenario(conn):
            await conn.authenticate()
            await conn.send({"type": "heartbeat", "seq": 9, "timestamp": 1.0})
            got["ack"] = await conn.expect("heartbeat_ack")
            await conn.state(5, 0, 0, {"x": 1, "score": 0})
            got["action"] = await conn.expect("action")
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepSyncClient(name="sync")
            bridge.before_exit.append(client.close)
            client.connect(bridge.url, token=TOKEN, frameskip=4)
            state = client.recv(5)
            client.send_action(state.frame, ["RIGHT"])
        self.assertEqual(bridge.conns[0].hello_msg["frameskip"], 4)
        self.assertEqual(got["ack"]["seq"], 9)
        self.assertEqual(got["action"], {"type": "action", "frame": 5, "buttons": 0x80})

    def test_an_idle_trainer_still_answers_heartbeats_and_keeps_what_arrives_meanwhile(self):
        got = {}

        async def scenario(conn):
            await conn.authenticate()
            await conn.send({"type": "heartbeat", "seq": 3, "timestamp": 1.0})
            got["ack"] = await conn.expect("heartbeat_ack", timeout=2)
            await conn.state(8, 0, 0, {"x": 1, "score": 0})
            await conn.send({"type": "ping", "id": 5, "t0": 2.0})
            got["pong"] = await conn.expect("pong", timeout=2)
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepSyncClient()
            bridge.before_exit.append(client.close)
            client.connect(bridge.url, token=TOKEN)
            threads = threading.active_count()
            deadline = __import__("time").monotonic() + 4
            while "pong" not in got and __import__("time").monotonic() < deadline:
                __import__("time").sleep(0.05)  # the trainer is busy elsewhere: it calls nothing on the link
            state = client.recv(1)
            client.close()
            self.assertEqual(threading.active_count(), threads - 1, "close() ends the keeper thread")
        self.assertEqual((got["ack"]["seq"], got["pong"]["id"]), (3, 5))
        self.assertEqual(state.frame, 8, "the state that came while idle is kept for recv()")

    def test_final_state_of_an_episode_end_with_its_screen(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.send({"type": "episode_end", "episode": 3, "terminationFrame": 90, "rows": 40, "reason": "max_steps",
                             "reward": 2.0, "frames": 4,
                             "final": {"frame": 90, "timestamp": 1.0, "vars": {"x": 7, "score": 9}, "info": {"lag": False}, "screen": True}})
            await conn.ws.send(screen_frame(90, 64, 60, "gray", 77))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepSyncClient()
            bridge.before_exit.append(client.close)
            client.connect(bridge.url, token=TOKEN, screen={"format": "gray", "downsample": 4})
            end = client.recv(5)
        self.assertIsInstance(end, EpisodeEnd)
        f = end.final
        self.assertEqual((f.frame, f.step, f.episode, f.reward, f.frames, f.truncated), (90, 40, 3, 2.0, 4, True))
        self.assertEqual(f.vars, {"x": 7, "score": 9})
        self.assertEqual((f.screen.frame, f.screen.shape, set(f.screen.pixels)), (90, (60, 64), {77}))

    def test_a_screen_for_the_wrong_frame_is_an_error_naming_both_frames(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.state(7, 0, 0, {"x": 1, "score": 0}, screen=True)
            await conn.ws.send(screen_frame(8, 32, 30, "gray", 0))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            client = LockstepSyncClient()
            client.connect(bridge.url, token=TOKEN, screen={"format": "gray", "downsample": 8})
            with self.assertRaises(LockstepError) as ctx:
                client.recv(5)
        self.assertIn("frame 8", str(ctx.exception))
        self.assertIn("frame 7", str(ctx.exception))

    def test_recv_timeout_and_a_dropped_link(self):
        release = threading.Event()

        async def scenario(conn):
            await conn.authenticate()
            while not release.is_set():
                await __import__("asyncio").sleep(0.01)
            conn.ws.transport.abort()

        with FakeBridge(scenario) as bridge:
            client = LockstepSyncClient()
            client.connect(bridge.url, token=TOKEN)
            with self.assertRaises(TimeoutError):
                client.recv(0.2)
            release.set()
            with self.assertRaises(LockstepConnectionClosed) as ctx:
                client.recv(5)
        self.assertEqual(ctx.exception.code, 1006)
        self.assertTrue(ctx.exception.retryable)


if __name__ == "__main__":
    unittest.main()
