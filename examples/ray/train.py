"""Trains the small policy on RAM variables with Ray actors (REINFORCE), exports it to ONNX with its Lockstep sidecar,
and runs it in-process with `lockstep run --agent onnx:...`.

    LOCKSTEP_CLI=dist/cli.js .cache/venv/bin/python examples/ray/train.py --actors 2 --iterations 5 --out out/ray-policy
"""
import argparse
import json
import os
import subprocess
import sys
from typing import Any, Dict, List

import numpy as np
import ray
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from actors import EnvActor, collect, start_ray  # noqa: E402
from policy import Policy, export_onnx  # noqa: E402

from lockstep_client import find_cli  # noqa: E402


def reinforce_step(policy: Policy, opt: torch.optim.Optimizer, episodes: List[Dict[str, Any]], gamma: float) -> float:
    """One policy-gradient step on the episodes' discounted returns-to-go (normalised); returns the loss."""
    xs, acts, rets = [], [], []
    for e in episodes:
        g, out = 0.0, []
        for r in e["rewards"][::-1]:
            g = r + gamma * g
            out.append(g)
        rets.append(np.asarray(out[::-1], dtype=np.float32))
        xs.append(e["features"])
        acts.append(e["actions"])
    x = torch.as_tensor(np.concatenate(xs))
    a = torch.as_tensor(np.concatenate(acts))
    ret = torch.as_tensor(np.concatenate(rets))
    ret = (ret - ret.mean()) / (ret.std() + 1e-6)
    logp = torch.log_softmax(policy(x), dim=-1).gather(1, a[:, None])[:, 0]
    loss = -(logp * ret).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def run_in_lockstep(model: str, frames: int, record: str) -> Dict[str, Any]:
    """`lockstep run --agent onnx:MODEL`: the exported policy played by Lockstep itself (onnxruntime-web), recorded."""
    cmd = find_cli() + ["run", "--agent", "onnx:" + model, "--frames", str(frames), "--record", record, "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--actors", type=int, default=2)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--episodes", type=int, default=4, help="episodes per iteration")
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--frameskip", type=int, default=4)
    p.add_argument("--run-frames", type=int, default=600, help="frames `lockstep run` plays with the exported model")
    p.add_argument("--out", default="out/ray-policy")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    policy = Policy()
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    start_ray()
    try:
        actors = [EnvActor.remote(args.max_steps, None, args.frameskip) for _ in range(args.actors)]
        for it in range(args.iterations):
            weights = {k: v.detach().numpy() for k, v in policy.state_dict().items()}
            ray.get([a.set_weights.remote(weights) for a in actors])
            seeds = [args.seed + it * args.episodes + i for i in range(args.episodes)]
            episodes = collect(actors, seeds, use_policy=True)
            loss = reinforce_step(policy, opt, episodes, gamma=0.99)
            mean_return = float(np.mean([e["rewards"].sum() for e in episodes]))
            print(json.dumps({"iteration": it, "mean_return": mean_return, "loss": loss}), flush=True)
        ray.get([a.close.remote() for a in actors])
    finally:
        ray.shutdown()
    model = os.path.join(args.out, "catch-policy.onnx")
    torch.save(policy.state_dict(), os.path.join(args.out, "catch-policy.pt"))
    export_onnx(policy, model)
    summary = run_in_lockstep(model, args.run_frames, os.path.join(args.out, "run"))
    print(json.dumps({"model": model, "lockstep_run": {k: summary.get(k) for k in ("frames", "episodes", "returns") if k in summary}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
