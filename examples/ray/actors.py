"""Ray actors that each own a made Lockstep env (its own `lockstep serve`) and play whole episodes for given seeds."""
import os
from typing import Any, Dict, List, Optional

import gymnasium
import numpy as np
import ray
import torch

from policy import ACTIONS, Policy, features


@ray.remote(num_cpus=1)
class EnvActor(object):
    """One env per actor; episodes are reproducible: the emulator is deterministic and actions come from the seed."""

    def __init__(self, max_steps: int, record: Optional[str] = None, frameskip: int = 1) -> None:
        import lockstep_client  # noqa: F401  (here, in the worker: importing it registers lockstep/Catch-v0)
        kwargs: Dict[str, Any] = {"max_steps": max_steps, "action_set": ACTIONS, "frameskip": frameskip}
        if record:
            os.makedirs(record, exist_ok=True)
            kwargs["record"] = record
        self.env = gymnasium.make("lockstep/Catch-v0", **kwargs)
        self.vars = list(self.env.unwrapped.vars)
        self.policy = Policy()

    def set_weights(self, state: Dict[str, Any]) -> None:
        self.policy.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})

    def episode(self, seed: int, use_policy: bool = False) -> Dict[str, Any]:
        """Plays one episode: random actions from `seed`, or the policy's actions sampled with `seed`."""
        rng = np.random.default_rng(seed)
        obs, _ = self.env.reset(seed=seed)
        feats, actions, rewards = [], [], []
        while True:
            x = features(self.vars, obs)
            if use_policy:
                with torch.no_grad():
                    p = torch.softmax(self.policy(torch.as_tensor(x)[None]), dim=-1)[0].numpy().astype(np.float64)
                a = int(rng.choice(len(ACTIONS), p=p / p.sum()))
            else:
                a = int(rng.integers(len(ACTIONS)))
            obs, reward, terminated, truncated, _ = self.env.step(a)
            feats.append(x)
            actions.append(a)
            rewards.append(float(reward))
            if terminated or truncated:
                break
        return {"seed": seed, "features": np.stack(feats), "actions": np.asarray(actions), "rewards": np.asarray(rewards),
                "final": np.asarray(obs)}

    def close(self) -> None:
        self.env.close()


def start_ray(num_cpus: int = 2) -> None:
    """A local Ray: on a cluster, this is the one line to change (address="auto", or "ray://HEAD:10001")."""
    here = os.path.dirname(os.path.abspath(__file__))
    # Workers import this module and policy.py by name: they inherit the driver's environment on a local Ray.
    os.environ["PYTHONPATH"] = os.pathsep.join([here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    # address="local": always a Ray of our own, never a cluster another process on this machine started.
    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}})


def collect(actors: List[Any], seeds: List[int], use_policy: bool = False) -> List[Dict[str, Any]]:
    """Episodes for `seeds`, spread over the actors round-robin, in seed order."""
    refs = [actors[i % len(actors)].episode.remote(s, use_policy) for i, s in enumerate(seeds)]
    return ray.get(refs)
