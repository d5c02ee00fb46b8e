"""The small policy the Ray example trains: an MLP over three RAM-map variables of the demo ROM, and its ONNX export."""
import json
import os
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn as nn

#: what the policy sees (RAM-map variables, in this order) and how they are scaled (bytes to 0..1)
VARIABLES = ["p1_x", "item_x", "item_y"]
SCALE = 1.0 / 256.0
#: what each output presses (the env's action_set and the sidecar's actions)
ACTIONS: List[List[str]] = [[], ["LEFT"], ["RIGHT"]]


class Policy(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.fc1 = nn.Linear(len(VARIABLES), hidden)
        self.fc2 = nn.Linear(hidden, len(ACTIONS))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(obs)))


def features(env_vars: Sequence[str], obs: np.ndarray) -> np.ndarray:
    """The policy's input from an env observation vector (RAM-map variables in env.vars order)."""
    index = {name: i for i, name in enumerate(env_vars)}
    return np.asarray([obs[index[v]] for v in VARIABLES], dtype=np.float32) * np.float32(SCALE)


def features_of_row(vars_by_name: Dict[str, float]) -> np.ndarray:
    """The same input from a recorded row's vars (what `lockstep run` fed its ONNX agent for that frame)."""
    return np.asarray([vars_by_name[v] for v in VARIABLES], dtype=np.float32) * np.float32(SCALE)


def export_onnx(policy: Policy, path: str) -> str:
    """Writes NAME.onnx and its NAME.lockstep.json sidecar (docs/onnx.md); returns the sidecar's path."""
    policy.eval()
    torch.onnx.export(policy, torch.zeros(1, len(VARIABLES)), path, input_names=["obs"], output_names=["logits"],
                      dynamic_axes={"obs": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, dynamo=False)
    sidecar = os.path.splitext(path)[0] + ".lockstep.json"
    with open(sidecar, "w") as f:
        json.dump({"input": {"kind": "ram", "variables": VARIABLES, "scale": SCALE},
                   "output": {"kind": "argmax", "actions": ACTIONS}, "seed": 0}, f, indent=2)
    return sidecar
