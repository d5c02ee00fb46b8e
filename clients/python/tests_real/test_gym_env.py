"""LockstepEnv as a trainer meets it: gymnasium.make on the real CLI (lockstep serve, embedded emulator, demo ROM)."""
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

import lockstep_client
from lockstep_client import CATCH_ID, ROM_ID, LockstepEnv, LockstepServerError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEMO_ROM = os.path.join(ROOT, "roms", "demo", "demo.nes")
CLI = os.environ.get("LOCKSTEP_CLI")
if not CLI:
    raise RuntimeError("these tests run the real CLI: set LOCKSTEP_CLI to dist/cli.js (npm run build)")
NOOP, RIGHT, LEFT = 0, 1, 2
CATCHER_ACTIONS = [[], ["RIGHT"], ["LEFT"]]


def catcher(env, obs):
    """Moves the paddle under the falling item (the demo's greedy policy), from the RAM-map observation."""
    v = dict(zip(env.unwrapped.vars, obs))
    paddle, item = v["p1_x"] + 12, v["item_x"] + 4
    return RIGHT if item > paddle + 2 else LEFT if item < paddle - 2 else NOOP


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is gone for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


class GymnasiumConformance(unittest.TestCase):
    def make(self, env_id=CATCH_ID, **kw):
        env = gymnasium.make(env_id, **kw)
        self.addCleanup(env.close)
        return env

    def test_check_env_passes_without_a_warning_on_the_made_env(self):
        env = self.make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env)
        self.assertEqual([str(w.message) for w in caught], [])

    def test_check_env_with_screens_and_rgb_array_rendering(self):
        env = self.make(render_mode="rgb_array", screen={"format": "gray", "downsample": 4})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env)
        self.assertEqual([str(w.message) for w in caught], [])
        obs, _ = env.reset()
        frame = env.render()
        self.assertEqual((frame.shape, frame.dtype), ((240, 256, 3), np.uint8))
        self.assertGreater(int(frame.max()), 0, "the rendered screen shows the game, not a blank")
        self.assertEqual(obs["screen"].shape, (60, 64))
        # The gray/4 observation is the rendered screen box-averaged to luma (what the bridge itself would send).
        luma = (0.299 * frame[..., 0].astype(float) + 0.587 * frame[..., 1] + 0.114 * frame[..., 2])
        expected = luma.reshape(60, 4, 64, 4).mean(axis=(1, 3))
        self.assertLessEqual(float(np.abs(expected - obs["screen"]).max()), 1.0)
        self.assertEqual(env.metadata["render_fps"], 60)

    def test_registered_ids_and_rom_env(self):
        self.assertIn(CATCH_ID, gymnasium.registry)
        self.assertIn(ROM_ID, gymnasium.registry)
        env = self.make(ROM_ID, rom=DEMO_ROM, max_steps=450)
        self.assertEqual(env.unwrapped.max_steps, 450)
        with self.assertRaisesRegex(ValueError, "needs rom=PATH"):
            gymnasium.make(ROM_ID)

    def test_box_bounds_come_from_ram_map_sizes_and_action_masks_is_a_method(self):
        env = self.make()
        space = env.observation_space
        sizes = {"frame": 2, "rng": 2}  # every other demo variable is one unsigned byte
        for i, name in enumerate(env.unwrapped.vars):
            self.assertEqual((space.low[i], space.high[i]), (0, 65535 if sizes.get(name) == 2 else 255), name)
        masks = env.unwrapped.action_masks()
        self.assertEqual((masks.shape, masks.dtype, bool(masks.all())), ((env.action_space.n,), np.dtype(bool), True))

    def test_same_seed_and_actions_give_the_same_observations_rewards_and_info(self):
        env = self.make(max_steps=40)
        runs = []
        for _ in range(2):
            obs, info = env.reset(seed=7)
            trace = [(obs.tolist(), info)]
            while True:
                obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
                trace.append((obs.tolist(), reward, terminated, truncated, info))
                if terminated or truncated:
                    break
            runs.append(trace)
        self.assertEqual(len(runs[0]), 41)
        self.assertEqual(runs[0], runs[1])

    def test_make_vec_async_with_two_envs(self):
        envs = gymnasium.make_vec(CATCH_ID, num_envs=2, vectorization_mode="async", max_steps=30)
        self.addCleanup(envs.close)
        obs, _ = envs.reset(seed=1)
        self.assertEqual(obs.shape, (2, 14))
        ends = 0
        for _ in range(35):
            obs, rewards, terminated, truncated, _ = envs.step(np.array([NOOP, NOOP]))
            ends += int(truncated.sum())
        self.assertEqual(ends, 2, "each env truncates once at 30 steps")
        self.assertEqual(obs.shape, (2, 14))


class TerminalObservation(unittest.TestCase):
    def test_last_step_returns_the_post_frame_state_and_its_reward(self):
        # Run 1 finds the first step whose frame scores (reward 1) and the observation after it.
        with LockstepEnv(max_steps=1000, action_set=CATCHER_ACTIONS) as env:
            obs, _ = env.reset()
            before, actions = [], []
            for step in range(1000):
                a = catcher(env, obs)
                actions.append(a)
                before.append(obs)
                obs, reward, terminated, truncated, info = env.step(a)
                if reward > 0:
                    scoring_step, after = step, obs
                    break
            else:
                self.fail("the catcher never scored in 1000 frames")
        # Run 2 ends the episode on exactly that frame: its last step must carry the score and the state after it.
        with tempfile.TemporaryDirectory() as rec:
            with LockstepEnv(max_steps=scoring_step + 1, action_set=CATCHER_ACTIONS, record=rec) as env:
                env.reset()
                for a in actions[:-1]:
                    _, reward, terminated, truncated, _ = env.step(a)
                    self.assertEqual((reward, terminated, truncated), (0.0, False, False))
                last, reward, terminated, truncated, info = env.step(actions[-1])
            self.assertEqual((reward, terminated, truncated), (1.0, False, True))
            np.testing.assert_array_equal(last, after)
            score = env.vars.index("score_p1")
            self.assertEqual(last[score], before[-1][score] + 1, "the final observation is after the scoring frame")
            self.assertEqual(info["episode_end"], {"terminationFrame": info["frame"], "rows": scoring_step + 1, "reason": "max_steps"})
            self.assertEqual(set(info) - {"episode_end", "state_truncated", "state_terminated"}, {"lag", "frame", "step", "player", "frames"})
            # Row parity: the recording has maxSteps rows; the state after the last one is in the manifest.
            manifests = glob.glob(os.path.join(rec, "**", "episode-*.json"), recursive=True)
            self.assertEqual(len(manifests), 1, manifests)
            with open(manifests[0]) as f:
                manifest = json.load(f)
            self.assertEqual(manifest["rows"], scoring_step + 1)
            self.assertEqual([manifest["finalVars"][n] for n in env.vars], [int(v) for v in last])


class Frameskip(unittest.TestCase):
    def test_frameskip_4_equals_each_action_held_4_single_steps(self):
        k, rows = 4, 400
        with tempfile.TemporaryDirectory() as rec:
            with LockstepEnv(max_steps=rows, action_set=CATCHER_ACTIONS, frameskip=k, record=rec) as env:
                obs, _ = env.reset()
                skipped = []  # (action, obs after, reward, frames)
                while True:
                    a = catcher(env, obs)
                    obs, reward, terminated, truncated, info = env.step(a)
                    skipped.append((a, obs, reward, info["frames"]))
                    if terminated or truncated:
                        break
            with open(os.path.join(rec, "episode-0000.jsonl")) as f:
                recorded = [json.loads(line) for line in f]
        self.assertEqual(len(skipped), rows // k)
        self.assertEqual({fr for *_, fr in skipped}, {k})
        self.assertGreater(sum(r for _, _, r, _ in skipped), 0, "the catcher scores in %d frames" % rows)
        # Every frame has its row; the bridge's own answers are marked repeated, the trainer's are not.
        self.assertEqual(len(recorded), rows)
        self.assertEqual([bool(r["info"].get("p1", {}).get("repeated")) for r in recorded], [i % k != 0 for i in range(rows)])
        self.assert_single_steps_agree(skipped, rows)

    def assert_single_steps_agree(self, repeated, rows, **env_options):
        """Each (action, observation, summed reward, frames) of a repeated run equals that many single steps of a fresh env."""
        with LockstepEnv(max_steps=rows, action_set=CATCHER_ACTIONS, **env_options) as env:
            env.reset()
            for a, after, reward, frames in repeated:
                total = 0.0
                for _ in range(frames):
                    obs, r, terminated, truncated, _ = env.step(a)
                    total += r
                np.testing.assert_array_equal(obs, after)
                self.assertEqual(total, reward)
            self.assertTrue(truncated)

    def test_an_episode_ending_inside_a_repeat_on_either_emulator_thread(self):
        # 10 rows at k=4: the last action runs 2 frames; the server pipelines a repeat's frames (its steps go out before
        # the rows are recorded), on a worker thread and on its own thread alike.
        rows, k = 10, 4
        for where in ("main", "worker"):
            with tempfile.TemporaryDirectory() as rec:
                with LockstepEnv(max_steps=rows, action_set=CATCHER_ACTIONS, frameskip=k, record=rec, embedded_thread=where) as env:
                    obs, _ = env.reset()
                    skipped = []
                    for episode_step in range(rows):
                        a = (RIGHT, LEFT, NOOP)[episode_step % 3]
                        obs, reward, terminated, truncated, info = env.step(a)
                        skipped.append((a, obs, reward, info["frames"]))
                        if terminated or truncated:
                            break
                    self.assertEqual((terminated, truncated), (False, True))
                with open(os.path.join(rec, "episode-0000.jsonl")) as f:
                    recorded = [json.loads(line) for line in f]
            self.assertEqual([fr for *_, fr in skipped], [4, 4, 2], where)
            self.assertEqual(len(recorded), rows, where)
            self.assertEqual([bool(r["info"].get("p1", {}).get("repeated")) for r in recorded], [i % k != 0 for i in range(rows)])
            self.assertEqual([r["frame"] for r in recorded], list(range(recorded[0]["frame"], recorded[0]["frame"] + rows)))
            self.assert_single_steps_agree(skipped, rows, embedded_thread=where)

    def test_a_declared_skip_is_no_desync_and_an_undeclared_one_still_is(self):
        from lockstep_client import LockstepServer, LockstepSyncClient
        server = LockstepServer(lockstep_cli=CLI)
        self.addCleanup(server.stop)
        link = LockstepSyncClient()
        link.connect(server.url, token=server.token, frameskip=4)
        s = link.recv(10)
        link.send_action(s.frame, 0x80)
        after = link.recv(10)
        self.assertEqual((after.frame, after.frames), (s.frame + 4, 4))
        link.send_action(after.frame, 0x80)
        self.assertEqual(link.recv(10).frame, after.frame + 4)
        # (A slow machine may log a timeout desync while this process is descheduled; no skip is reported.)
        self.assertNotRegex("\n".join(server._stderr), "frame_skip|minor_skip")
        link.close()
        link = LockstepSyncClient()
        link.connect(server.url, token=server.token)
        s = link.recv(10)
        link.send_action(s.frame + 3, 0x80)  # answering a frame it was never sent: not declared, so a desync
        deadline = time.monotonic() + 10
        while "frame_skip" not in "\n".join(server._stderr) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("frame_skip", "\n".join(server._stderr))
        link.close()


def play(env, seed, steps, hold):
    """Resets with `seed` and steps through actions 0, 1, 2, each held `hold` steps: the observations, rewards and frames seen."""
    obs, _ = env.reset(seed=seed)
    seen = [obs.tolist()]
    for i in range(steps):
        obs, reward, _, _, info = env.step((i // hold) % 3)
        seen.append((obs.tolist(), reward, info["frame"]))
    return seen


class OwnServer(unittest.TestCase):
    def test_a_made_env_talks_over_a_private_unix_socket_and_tcp_gives_the_same_steps(self):
        runs = {}
        for unix in (True, False):
            env = LockstepEnv(unix_socket=unix)
            self.addCleanup(env.close)
            sock = env.client._ws.sock
            if unix:
                path = env.server.socket_path
                self.assertEqual(sock.family, socket.AF_UNIX)
                self.assertEqual(sock.getpeername(), path)
                self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)
            else:
                self.assertIsNone(env.server.socket_path)
                self.assertEqual(sock.getpeername()[0], "127.0.0.1")
            runs[unix] = play(env, seed=3, steps=120, hold=7)
            env.close()
            if unix:
                self.assertFalse(os.path.exists(os.path.dirname(path)), "close() removes the socket's directory")
        self.assertEqual(runs[True], runs[False])

    def test_a_made_env_runs_jsnes_on_its_servers_own_thread_and_a_worker_gives_the_same_steps(self):
        runs, threads = {}, {}
        for where in ("main", "worker"):
            env = LockstepEnv(**({} if where == "main" else {"embedded_thread": "worker"}))
            self.addCleanup(env.close)
            runs[where] = play(env, seed=5, steps=150, hold=5)
            # The emulator's worker is a thread of the server process (Linux lists them in /proc).
            threads[where] = len(os.listdir("/proc/%d/task" % env.server.process.pid))
            env.close()
        self.assertEqual(runs["main"], runs["worker"])
        self.assertGreater(threads["worker"], threads["main"], "only embedded_thread='worker' starts a worker thread")

    def test_embedded_thread_is_checked_before_any_server_starts(self):
        with self.assertRaisesRegex(ValueError, "embedded_thread must be 'main' or 'worker', got 'gpu'"):
            LockstepEnv(embedded_thread="gpu")
        with self.assertRaisesRegex(ValueError, "embedded_thread applies to the embedded emulator only"):
            LockstepEnv(emulator="fceux", embedded_thread="main")

    def test_wrong_lockstep_cli_names_what_was_tried(self):
        bad = os.path.join(tempfile.gettempdir(), "no-such-lockstep", "cli.js")
        with self.assertRaises(LockstepServerError) as ctx:
            LockstepEnv(lockstep_cli=bad)
        self.assertIn("lockstep_cli=", str(ctx.exception))
        self.assertIn(bad, str(ctx.exception))
        saved = os.environ.get("LOCKSTEP_CLI")
        os.environ["LOCKSTEP_CLI"] = bad
        try:
            with self.assertRaisesRegex(LockstepServerError, "LOCKSTEP_CLI .*no-such-lockstep.*no such file"):
                gymnasium.make(CATCH_ID)
        finally:
            os.environ["LOCKSTEP_CLI"] = saved
        path = os.environ.get("PATH", "")
        del os.environ["LOCKSTEP_CLI"]
        os.environ["PATH"] = tempfile.gettempdir()
        try:
            with self.assertRaisesRegex(LockstepServerError, "LOCKSTEP_CLI is not set, and there is no `lockstep` on PATH"):
                LockstepEnv()
        finally:
            os.environ["PATH"] = path
            os.environ["LOCKSTEP_CLI"] = saved

    def test_bad_rom_path_is_one_clear_error_and_no_server_is_left(self):
        missing = os.path.join(tempfile.gettempdir(), "no-such-game.nes")
        before = set(serve_pids())
        with self.assertRaises(LockstepServerError) as ctx:
            LockstepEnv(rom=missing)
        self.assertIn("exited with code", str(ctx.exception))
        self.assertIn("no-such-game.nes", str(ctx.exception))
        time.sleep(0.2)
        self.assertEqual(set(serve_pids()) - before, set())

    def test_a_server_dying_mid_episode_is_one_clear_error(self):
        env = LockstepEnv()
        self.addCleanup(env.close)
        env.reset()
        env.step(0)
        pid = env.server.process.pid
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        with self.assertRaises(LockstepServerError) as ctx:
            for _ in range(100):
                env.step(0)
        self.assertLess(time.monotonic() - started, 10)
        self.assertRegex(str(ctx.exception), r"lockstep serve \(pid %d\) exited with code -9" % pid)
        env.close()
        self.assertFalse(pid_alive(pid))

    def test_a_trainer_away_from_the_link_is_not_taken_for_dead(self):
        # Heartbeats every 200 ms, one reconnect after 100 ms: without answers the server gives the trainer up within a second.
        env = LockstepEnv(serve_args=["--sync", "heartbeatIntervalMs=200", "--sync", "reconnectDelayMs=100", "--sync", "reconnectAttempts=1"])
        self.addCleanup(env.close)
        env.reset()
        env.step(0)
        time.sleep(5)  # training between rollouts
        _, _, terminated, truncated, info = env.step(0)
        self.assertEqual((info["step"], terminated, truncated), (2, False, False))
        self.assertIsNone(env.server.returncode)
        self.assertNotIn("unreachable", "\n".join(env.server._stderr))

    def test_close_and_interpreter_exit_stop_the_server_even_when_python_is_killed(self):
        env = LockstepEnv()
        pid = env.server.process.pid
        self.assertTrue(pid_alive(pid))
        env.close()
        self.assertTrue(wait_gone(pid), "close() stops the server")
        script = ("import sys, lockstep_client; env = lockstep_client.LockstepEnv(); env.reset(); "
                  "print(env.server.process.pid, flush=True); sys.stdin.readline()")
        for how in ("exit", "kill"):
            child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            server = int(child.stdout.readline())
            self.assertTrue(pid_alive(server))
            if how == "exit":
                child.stdin.close()  # the script returns without close(): atexit stops the server
            else:
                child.kill()  # no atexit: the server sees its stdin close and stops
            child.wait(10)
            self.assertTrue(wait_gone(server), "%s: lockstep serve %d is still running" % (how, server))
            for stream in (child.stdin, child.stdout):
                if not stream.closed:
                    stream.close()


def serve_pids():
    """Pids of the `lockstep serve` processes this user runs (for orphan checks)."""
    out = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(os.path.join(d, "cmdline"), "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and b"--exit-with-stdin" in args:
            out.append(int(os.path.basename(d)))
    return out


if __name__ == "__main__":
    unittest.main()
