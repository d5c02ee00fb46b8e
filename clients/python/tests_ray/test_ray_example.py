"""examples/ray in short: Ray actors owning made envs agree on episodes for the same seeds, and the exported ONNX policy
run by Lockstep itself (`lockstep run --agent onnx:...`, onnxruntime-web) picks the same actions as the PyTorch policy."""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import ray
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "examples", "ray"))

from actors import EnvActor, collect, start_ray  # noqa: E402
from policy import ACTIONS, Policy, export_onnx, features_of_row  # noqa: E402
from train import reinforce_step, run_in_lockstep  # noqa: E402

from lockstep_client import names_to_mask  # noqa: E402

if not os.environ.get("LOCKSTEP_CLI"):
    raise RuntimeError("these tests run the real CLI: set LOCKSTEP_CLI to dist/cli.js (npm run build)")


class RayExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        start_ray(num_cpus=2)

    @classmethod
    def tearDownClass(cls):
        ray.shutdown()
        cls.tmp.cleanup()

    def test_two_actors_play_the_same_episodes_for_the_same_seeds_and_record_them(self):
        rec = [os.path.join(self.tmp.name, "actor-%d" % i) for i in range(2)]
        actors = [EnvActor.remote(40, rec[i]) for i in range(2)]
        try:
            seeds = [11, 12]
            # Each actor plays both seeds: actor 0 gets 11, 12 and actor 1 gets them too (in the other order).
            first = collect(actors, seeds)
            second = collect(actors[::-1], seeds)
        finally:
            ray.get([a.close.remote() for a in actors])
        for a, b in zip(first, second):
            self.assertEqual(a["seed"], b["seed"])
            np.testing.assert_array_equal(a["features"], b["features"])
            np.testing.assert_array_equal(a["actions"], b["actions"])
            np.testing.assert_array_equal(a["rewards"], b["rewards"])
            np.testing.assert_array_equal(a["final"], b["final"])
            self.assertEqual(len(a["actions"]), 40)
        self.assertFalse(np.array_equal(first[0]["actions"], first[1]["actions"]), "different seeds, different episodes")
        # Both actors recorded two episodes of 40 rows each, the same rows for the same seed.
        rows = {}
        for i in range(2):
            for ep in range(2):
                with open(os.path.join(rec[i], "episode-%04d.jsonl" % ep)) as f:
                    rows[(i, ep)] = [(r["actions"], r["vars"]) for r in map(json.loads, f)]
                self.assertEqual(len(rows[(i, ep)]), 40)
        self.assertEqual(rows[(0, 0)], rows[(1, 1)])  # seed 11: actor 0's first episode, actor 1's second
        self.assertEqual(rows[(1, 0)], rows[(0, 1)])  # seed 12

    def test_exported_policy_run_by_lockstep_picks_torch_argmax_on_recorded_observations(self):
        torch.manual_seed(5)
        policy = Policy()
        opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
        actors = [EnvActor.remote(30, None, 4) for _ in range(2)]
        try:
            weights = {k: v.detach().numpy() for k, v in policy.state_dict().items()}
            ray.get([a.set_weights.remote(weights) for a in actors])
            episodes = collect(actors, [1, 2], use_policy=True)
        finally:
            ray.get([a.close.remote() for a in actors])
        reinforce_step(policy, opt, episodes, gamma=0.99)
        # A policy fresh from random weights picks one action almost everywhere, which would make the check below
        # trivial: fit it to the demo's greedy catcher on random positions, so it follows the item and its argmax varies.
        g = torch.Generator().manual_seed(0)
        x = torch.rand(4000, 3, generator=g) * torch.tensor([232.0, 240.0, 192.0]) / 256
        paddle, item = x[:, 0] * 256 + 12, x[:, 1] * 256 + 4
        target = torch.where(item < paddle - 2, 1, torch.where(item > paddle + 2, 2, 0))
        fit = torch.optim.Adam(policy.parameters(), lr=2e-2)
        for _ in range(600):
            loss = torch.nn.functional.cross_entropy(policy(x), target)
            fit.zero_grad()
            loss.backward()
            fit.step()
        model = os.path.join(self.tmp.name, "policy.onnx")
        export_onnx(policy, model)
        summary = run_in_lockstep(model, 400, os.path.join(self.tmp.name, "run"))
        self.assertEqual(summary["frames"], 400)
        with open(os.path.join(self.tmp.name, "run", "episode-0000.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        self.assertGreaterEqual(len(rows), 300)
        masks = [names_to_mask(a) for a in ACTIONS]
        x = torch.as_tensor(np.stack([features_of_row(r["vars"]) for r in rows]))
        with torch.no_grad():
            expected = policy(x).argmax(dim=-1).tolist()
        got = [masks.index(r["actions"][0]) for r in rows]
        self.assertEqual(got, expected)
        self.assertGreater(len(set(expected)), 1, "the check sees the policy choose more than one action")


if __name__ == "__main__":
    unittest.main()
