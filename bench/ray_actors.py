"""Benchmark: episode collection throughput with 1 vs 2 Ray actors (examples/ray), medians over interleaved rounds.

    LOCKSTEP_CLI=dist/cli.js .cache/venv/bin/python bench/ray_actors.py      (npm run bench:ray)
"""
import json
import os
import platform
import statistics
import sys
import time

import ray

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "ray"))
from actors import EnvActor, collect, start_ray  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
EPISODES = int(os.environ.get("BENCH_EPISODES", "4"))
MAX_STEPS = int(os.environ.get("BENCH_MAX_STEPS", "500"))


def rate(actors, seeds):
    t0 = time.perf_counter()
    episodes = collect(actors, seeds)
    return sum(len(e["actions"]) for e in episodes) / (time.perf_counter() - t0)


def main() -> int:
    start_ray(num_cpus=2)
    try:
        # The same two actors serve both: one actor per CPU is all a 2-CPU Ray schedules.
        actors = [EnvActor.remote(MAX_STEPS) for _ in range(2)]
        pools = {1: actors[:1], 2: actors}
        collect(actors, [0, 1])  # warm: both envs started and past their first episode
        runs = {1: [], 2: []}
        for r in range(ROUNDS):
            for n, pool in pools.items():
                runs[n].append(rate(pool, [100 * r + i for i in range(EPISODES)]))
        ray.get([a.close.remote() for a in actors])
    finally:
        ray.shutdown()
    cpu = platform.processor() or platform.machine()
    print("Ray actors benchmark: %d episodes of %d steps x %d interleaved rounds, demo ROM, %d CPUs (%s)"
          % (EPISODES, MAX_STEPS, ROUNDS, os.cpu_count(), cpu))
    print("")
    print("| actors | env steps/s (median) | runs |")
    print("|---:|---:|---|")
    for n in (1, 2):
        print("| %d | %.0f | %s |" % (n, statistics.median(runs[n]), ", ".join("%.0f" % x for x in runs[n])))
    ratios = [b / a for a, b in zip(runs[1], runs[2])]
    print("")
    print("| ratio | value (median) | range |")
    print("|---|---:|---|")
    print("| 2 actors / 1 actor | %.2f | %.2f-%.2f |" % (statistics.median(ratios), min(ratios), max(ratios)))
    print(json.dumps({"one": runs[1], "two": runs[2]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
