"""LockstepEnv against the in-test fake bridge: spaces, observations, episode semantics, frame ids, reset, reconnect."""
import os
import threading
import unittest
from unittest import mock

from fake_bridge import TOKEN, FakeBridge, screen_frame

from lockstep_client import LockstepEnv


def play(conn, episodes, steps, first_frame=100, done_reason="max_steps", log=None):
    """A bridge that plays `episodes` episodes of `steps` frames; the reward of a state is its step number."""
    async def run():
        frame = first_frame
        for ep in range(episodes):
            for step in range(steps):
                await conn.state(frame, step, ep, {"score": 10 * step, "x": step}, reward=float(step))
                action = await conn.expect("action")
                if log is not None:
                    log.append((frame, action["frame"], action["buttons"]))
                frame += 1
            await conn.episode_end(ep, frame, steps, done_reason)
        # The runtime asks for the next episode's first frame right away.
        await conn.state(frame, 0, episodes, {"score": 0, "x": 0})
        await conn.wait_closed()
    return run()


class EnvTest(unittest.TestCase):
    def env(self, bridge, **config):
        config.setdefault("url", bridge.url)
        config.setdefault("token", TOKEN)
        config.setdefault("numpy", False)
        config.setdefault("session_info", True)
        env = LockstepEnv(config)
        bridge.before_exit.append(env.close)
        return env

    def test_spaces_and_vector_observation_in_welcome_order(self):
        async def scenario(conn):
            if await conn.authenticate(vars=("x", "score"), max_steps=3):
                await play(conn, 1, 3)

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge)
            self.assertEqual(env.action_space.n, 13)
            self.assertEqual(env.observation_space.shape, (2,))
            self.assertEqual(env.vars, ["x", "score"])
            self.assertEqual(env.max_steps, 3)
            obs, info = env.reset()
            self.assertEqual(obs, [0.0, 0.0])
            self.assertEqual((info["frame"], info["step"], info["episode"], info["player"]), (100, 0, 0, 0))
            obs, *_ = env.step(0)
            self.assertEqual(obs, [1.0, 10.0])
            self.assertTrue(env.observation_space.contains(obs))
            self.assertIn(env.action_space.sample(), range(13))

    def test_episodes_rewards_termination_and_frame_ids(self):
        log = []

        async def scenario(conn):
            if await conn.authenticate(max_steps=3):
                await play(conn, 2, 3, log=log)

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge, action_set="full")
            self.assertEqual(env.action_space.n, 256)
            results = []
            for ep in range(2):
                obs, info = env.reset()
                self.assertEqual((info["episode"], info["step"]), (ep, 0))
                rewards = []
                for i in range(10):
                    obs, reward, terminated, truncated, info = env.step(17 + i)
                    rewards.append(reward)
                    if terminated or truncated:
                        break
                end = info["episode_end"]
                results.append((rewards, terminated, truncated, end["rows"], end["reason"], end["terminationFrame"]))
            with self.assertRaisesRegex(RuntimeError, "call reset"):
                env.step(0)
        self.assertEqual(results, [([1.0, 2.0, 0.0], False, True, 3, "max_steps", 103),
                                   ([1.0, 2.0, 0.0], False, True, 3, "max_steps", 106)])
        # Every answer carries the frame id of the state it answers; action index i presses mask i in the full set.
        self.assertEqual([(f, a) for f, a, _ in log], [(f, f) for f in range(100, 106)])
        self.assertEqual([b for _, _, b in log], [17, 18, 19, 17, 18, 19])
        self.assertEqual(bridge.errors, [])

    def test_done_flag_is_terminated(self):
        async def scenario(conn):
            if await conn.authenticate():
                await play(conn, 1, 2, done_reason="done_flag")

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge)
            env.reset()
            env.step(0)
            _, _, terminated, truncated, info = env.step(0)
        self.assertEqual((terminated, truncated, info["episode_end"]["reason"]), (True, False, "done_flag"))

    def test_reset_mid_episode_terminates_at_the_held_frame(self):
        seen = []

        async def scenario(conn):
            if not await conn.authenticate():
                return
            await conn.state(50, 0, 0, {"x": 0, "score": 0})
            await conn.expect("action")
            await conn.state(51, 1, 0, {"x": 1, "score": 0})
            seen.append(await conn.expect("terminate"))
            seen.append(await conn.expect("action"))
            await conn.episode_end(0, 52, 2, "agent_terminated")
            await conn.state(52, 0, 1, {"x": 0, "score": 0})
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge)
            env.reset()
            env.step(1)
            obs, info = env.reset()
        self.assertEqual(seen[0], {"type": "terminate", "frame": 51})
        self.assertEqual((seen[1]["frame"], seen[1]["buttons"]), (51, 0))
        self.assertEqual((info["frame"], info["episode"]), (52, 1))

    def test_dropped_link_reconnects_on_the_same_controller_and_reanswers_the_held_frame(self):
        answers = []

        async def scenario(conn):
            if not await conn.authenticate():
                return
            if conn.index == 0:
                await conn.state(10, 0, 0, {"x": 0, "score": 0})
                await conn.state(11, 1, 0, {"x": 1, "score": 0})
                answers.append(("first link", (await conn.expect("action"))["frame"]))
                answers.append(("first link", (await conn.expect("action"))["frame"]))
                conn.ws.transport.abort()  # the link drops before the state for 12
                return
            answers.append(("player", conn.hello_msg.get("player")))
            await conn.state(11, 1, 0, {"x": 1, "score": 0})  # the bridge resends the held state
            a = await conn.expect("action")
            answers.append(("second link", a["frame"], a["buttons"]))
            await conn.state(12, 2, 0, {"x": 2, "score": 5}, reward=5.0)
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge, reconnect_delay=0.05, action_set="minimal")
            env.reset()
            env.step(0)
            obs, reward, terminated, truncated, info = env.step(5)  # A
        self.assertEqual(answers, [("first link", 10), ("first link", 11), ("player", 0), ("second link", 11, 0x01)])
        self.assertEqual((info["frame"], reward, obs), (12, 5.0, [2.0, 5.0]))

    def test_config_from_environment_variables_and_clear_config_errors(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            with mock.patch.dict(os.environ, {"LOCKSTEP_URL": "127.0.0.1:%d" % bridge.port, "LOCKSTEP_TOKEN": TOKEN}):
                env = LockstepEnv({"numpy": False})
                bridge.before_exit.append(env.close)
                self.assertEqual(env.welcome["session"], "fake")
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaisesRegex(ValueError, "both an address .port. and server settings .rom."):
                LockstepEnv({"port": 1, "rom": "game.nes"})
            with self.assertRaisesRegex(ValueError, "unknown config keys: colour"):
                LockstepEnv({"port": 1, "token": "x", "colour": 1})
            with self.assertRaisesRegex(ValueError, "no session token"):
                LockstepEnv({"port": 1})
            with self.assertRaisesRegex(ValueError, "'player' must be 0, 1 or None"):
                LockstepEnv({"port": 1, "token": "x", "player": 2})
            with self.assertRaisesRegex(ValueError, "downsample must be 1, 2, 4 or 8"):
                LockstepEnv({"port": 1, "token": "x", "screen": {"format": "gray", "downsample": 3}})

    def test_invalid_action_is_refused_before_sending(self):
        async def scenario(conn):
            if await conn.authenticate():
                await play(conn, 1, 2)

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge)
            env.reset()
            for bad in (13, -1, 1.5, True, "A"):
                with self.assertRaisesRegex(ValueError, r"action must be an integer in 0..12"):
                    env.step(bad)
            env.step(0)
        # Only the valid action reached the bridge (then the quit of close()).
        self.assertEqual([m["type"] for m in bridge.conns[0].received[1:]], ["action", "quit"])

    def test_screen_observation_without_numpy(self):
        async def scenario(conn):
            if not await conn.authenticate():
                return
            await conn.state(3, 0, 0, {"x": 1, "score": 2}, screen=True)
            await conn.ws.send(screen_frame(3, 32, 30, "gray", 77))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            env = self.env(bridge, screen={"format": "gray", "downsample": 8}, observation="dict")
            obs, info = env.reset()
            self.assertEqual(env.observation_space["screen"].shape, (30, 32))
        self.assertEqual(obs["vars"], {"x": 1.0, "score": 2.0})
        self.assertEqual(len(obs["screen"]), 30)
        self.assertEqual(obs["screen"][0], [77] * 32)
        self.assertNotIn("screen_missing", info)

    def test_screen_observation_with_the_default_array_backend(self):
        async def scenario(conn):
            if not await conn.authenticate():
                return
            await conn.state(3, 0, 0, {"x": 1, "score": 2}, screen=True)
            await conn.ws.send(screen_frame(3, 64, 60, "rgba", 9))
            await conn.wait_closed()

        with FakeBridge(scenario) as bridge:
            env = LockstepEnv({"url": bridge.url, "token": TOKEN, "screen": {"format": "rgba", "downsample": 4}})
            bridge.before_exit.append(env.close)
            self.addCleanup(env.close)
            obs, _ = env.reset()
            self.assertEqual(tuple(env.observation_space["screen"].shape), (60, 64, 4))
        screen = obs["screen"]
        self.assertEqual((len(screen), len(screen[0]), len(screen[0][0])), (60, 64, 4))
        self.assertEqual([int(v) for v in screen[59][63]], [9, 9, 9, 9])
        self.assertEqual([float(v) for v in obs["vars"]], [1.0, 2.0])

    def test_default_array_backend_gives_the_same_numbers(self):
        async def scenario(conn):
            if await conn.authenticate():
                await play(conn, 1, 2)

        with FakeBridge(scenario) as bridge:
            env = LockstepEnv({"url": bridge.url, "token": TOKEN})  # numpy when importable, lists otherwise
            bridge.before_exit.append(env.close)
            self.addCleanup(env.close)
            obs, _ = env.reset()
            obs, reward, *_ = env.step(env.action_space.sample())
        self.assertEqual([float(v) for v in obs], [1.0, 10.0])
        self.assertEqual(float(reward), 1.0)

    def test_close_sends_quit_and_leaves_no_thread(self):
        async def scenario(conn):
            await conn.authenticate()
            await conn.wait_closed()

        before = threading.active_count()
        with FakeBridge(scenario) as bridge:
            env = LockstepEnv({"url": bridge.url, "token": TOKEN})
            env.close()
            env.close()
            bridge.finished.wait(5)
            with self.assertRaisesRegex(RuntimeError, "closed"):
                env.reset()
        self.assertIn("quit", [m["type"] for m in bridge.conns[0].received])
        self.assertEqual(threading.active_count(), before)


if __name__ == "__main__":
    unittest.main()
