"""Collects episodes of the demo ROM with N Ray actors, each owning a Lockstep env that records its episodes.

    LOCKSTEP_CLI=dist/cli.js .cache/venv/bin/python examples/ray/collect.py --actors 2 --episodes 4 --record out/ray
"""
import argparse
import json
import os
import sys
import time

import ray

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from actors import EnvActor, collect, start_ray  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--actors", type=int, default=2)
    p.add_argument("--episodes", type=int, default=4)
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--frameskip", type=int, default=1)
    p.add_argument("--record", default=None, help="a folder: actor i records into RECORD/actor-i")
    args = p.parse_args()
    start_ray()
    try:
        actors = [EnvActor.remote(args.max_steps, os.path.join(args.record, "actor-%d" % i) if args.record else None, args.frameskip)
                  for i in range(args.actors)]
        t0 = time.perf_counter()
        episodes = collect(actors, list(range(args.episodes)))
        seconds = time.perf_counter() - t0
        steps = sum(len(e["actions"]) for e in episodes)
        for e in episodes:
            print(json.dumps({"seed": e["seed"], "steps": len(e["actions"]), "return": float(e["rewards"].sum())}))
        print(json.dumps({"actors": args.actors, "steps": steps, "seconds": seconds, "steps_per_s": steps / seconds}))
        ray.get([a.close.remote() for a in actors])
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
