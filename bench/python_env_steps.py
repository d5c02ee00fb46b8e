"""Times LockstepEnv.step on a `lockstep serve` the env starts itself; prints one JSON line (bench/python.ts runs it)."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

from lockstep_client import LockstepEnv  # noqa: E402


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) process `pid` has used, in seconds, from /proc (the server's side of a step)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--screen", choices=("none", "gray4"), default="none")
    p.add_argument("--frameskip", type=int, default=1)
    p.add_argument("--tcp", action="store_true", help="the link over loopback TCP instead of the server's Unix-domain socket")
    p.add_argument("--embedded-thread", choices=("main", "worker"), default=None,
                   help="where the server runs jsnes (default: the made env's default, main)")
    args = p.parse_args()
    config = {"action_set": "simple"}
    if args.embedded_thread:
        config["embedded_thread"] = args.embedded_thread
    if args.tcp:
        config["unix_socket"] = False
    if args.screen == "gray4":
        config["screen"] = {"format": "gray", "downsample": 4}
    if args.frameskip != 1:
        config["frameskip"] = args.frameskip
    with LockstepEnv(config) as env:
        env.reset(seed=1)
        # Drawn before the clock starts: the row times env.step, not gymnasium's sampler (about 4 µs a draw here).
        env.action_space.seed(1)
        actions = [env.action_space.sample() for _ in range(args.warmup + args.steps)]
        frames = 0
        server_pid = env.server.process.pid
        for i in range(args.warmup + args.steps):
            if i == args.warmup:
                t0 = time.perf_counter()
                c0 = time.process_time()
                s0 = process_cpu_s(server_pid)
                frames = 0
            _, _, terminated, truncated, info = env.step(actions[i])
            frames += info.get("frames", 1)
            if terminated or truncated:
                env.reset()
        seconds = time.perf_counter() - t0
        python_cpu = time.process_time() - c0
        server_cpu = process_cpu_s(server_pid) - s0
    print(json.dumps({"steps_per_s": args.steps / seconds, "frames_per_s": frames / seconds,
                      "python_cpu_us": python_cpu / args.steps * 1e6, "server_cpu_us": server_cpu / args.steps * 1e6}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
