#!/usr/bin/env python3
"""Greedy trainer for the bundled demo ROM (Lockstep Catch): moves its paddle under the falling item.

    PYTHONPATH=clients/python python3 examples/python/catcher_agent.py --port 8765 --token TOKEN --episodes 1

Reads the RAM-map variables p1_x/p2_x (paddle left edge, 24 px wide) and item_x (8 px wide) from each observation.
Prints one line per episode like random_agent.py.
"""
import argparse
import os
import sys

try:
    from lockstep_client import LockstepEnv, LockstepError
except ImportError:  # run from a checkout without installing: use the client next to this example
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    from lockstep_client import LockstepEnv, LockstepError

NOOP, RIGHT, LEFT = 0, 1, 2  # indices into the action set below
ACTIONS = [[], ["RIGHT"], ["LEFT"]]
PADDLE_HALF = 12
ITEM_HALF = 4


def choose(vars, player):
    """RIGHT or LEFT towards the item's centre; NOOP when within 1 px."""
    paddle = vars["p1_x" if player == 0 else "p2_x"] + PADDLE_HALF
    item = vars["item_x"] + ITEM_HALF
    if item > paddle + 1:
        return RIGHT
    if item < paddle - 1:
        return LEFT
    return NOOP


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="bridge agent URL (default: $LOCKSTEP_URL)")
    p.add_argument("--port", type=int, help="bridge port on 127.0.0.1")
    p.add_argument("--token", default=os.environ.get("LOCKSTEP_TOKEN"), help="session token (default: $LOCKSTEP_TOKEN)")
    p.add_argument("--episodes", type=int, default=1)
    p.add_argument("--player", type=int, choices=(0, 1), default=None)
    args = p.parse_args(argv)
    config = {"token": args.token, "player": args.player, "action_set": ACTIONS, "observation": "dict"}
    if args.url:
        config["url"] = args.url
    elif args.port is not None:
        config["port"] = args.port
    try:
        env = LockstepEnv(config)
    except (LockstepError, ValueError) as e:
        print("catcher_agent: %s" % e, file=sys.stderr)
        return 2
    with env:
        missing = [v for v in ("p1_x", "p2_x", "item_x") if v not in env.vars]
        if missing:
            print("catcher_agent: this ROM's RAM map has no %s (it plays the demo ROM)" % ", ".join(missing), file=sys.stderr)
            return 2
        for _ in range(args.episodes):
            obs, info = env.reset()
            first_frame = info["frame"]
            total, steps = 0.0, 0
            while True:
                obs, reward, terminated, truncated, info = env.step(choose(obs, env.player))
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
