#!/usr/bin/env python3
"""Random trainer for Lockstep: connects to a running session's bridge and plays episodes with random buttons.

    PYTHONPATH=clients/python python3 examples/python/random_agent.py --port 8765 --token TOKEN --episodes 3

Prints one line per episode: episode, rows the bridge recorded, steps taken here, return, and why it ended.
"""
import argparse
import os
import sys

try:
    from lockstep_client import LockstepEnv, LockstepError
except ImportError:  # run from a checkout without installing: use the client next to this example
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    from lockstep_client import LockstepEnv, LockstepError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="bridge agent URL, e.g. ws://127.0.0.1:8765/agent (default: $LOCKSTEP_URL)")
    p.add_argument("--host", default=None, help="bridge host when using --port (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="bridge port")
    p.add_argument("--token", default=os.environ.get("LOCKSTEP_TOKEN"), help="session token (default: $LOCKSTEP_TOKEN)")
    p.add_argument("--episodes", type=int, default=1, help="episodes to play (default 1)")
    p.add_argument("--player", type=int, choices=(0, 1), default=None, help="controller: 0 or 1 (default: first free)")
    p.add_argument("--seed", type=int, default=0, help="seed for the random actions (default 0)")
    p.add_argument("--action-set", default="simple", help="minimal, simple (default) or full")
    p.add_argument("--screen", choices=("none", "rgba", "gray"), default="none", help="ask for screens (default none)")
    p.add_argument("--downsample", type=int, choices=(1, 2, 4, 8), default=1, help="screen downsampling factor")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    config = {"token": args.token, "player": args.player, "action_set": args.action_set}
    if args.url:
        config["url"] = args.url
    elif args.port is not None:
        config.update({"host": args.host, "port": args.port})
    if args.screen != "none":
        config["screen"] = {"format": args.screen, "downsample": args.downsample}
    try:
        env = LockstepEnv(config)
    except (LockstepError, ValueError) as e:
        print("random_agent: %s" % e, file=sys.stderr)
        return 2
    with env:
        print("connected: session %s, controller %d, vars %s, maxSteps %s"
              % (env.welcome["session"], env.player + 1, ",".join(env.vars), env.max_steps), flush=True)
        for i in range(args.episodes):
            obs, info = env.reset(seed=args.seed if i == 0 else None)
            first_frame = info["frame"]
            total, steps = 0.0, 0
            while True:
                obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
                total += reward
                steps += 1
                if terminated or truncated:
                    break
            end = info["episode_end"]
            print("episode=%d rows=%d steps=%d return=%g reason=%s startFrame=%d terminationFrame=%d"
                  % (env.episode, end["rows"], steps, total, end["reason"], first_frame, end["terminationFrame"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
