"""A small residual block exported to ONNX by torch (shared by the inputs_from tests)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn


class Residual(nn.Module):
    """stem → relu → conv1 → act1 → conv2, plus the skip from the first relu into the Add."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.act1 = nn.ReLU()
        self.act2 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        y = self.conv2(self.act1(self.conv1(x)))
        z = self.act2(x + y)
        return self.head(z.mean((2, 3)).flatten(1))


def export_residual(path: Path) -> Path:
    """The block through torch's TorchScript-based exporter (node names carry module scopes)."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter says it is legacy
        torch.onnx.export(Residual().eval(), (torch.randn(1, 3, 8, 8),), str(path), dynamo=False, input_names=["x"])
    return path
