"""`demo:digits-cnn`: a small convolutional classifier of 8×8 handwritten digits whose weights
were trained (by `profiler/demos_digits_train.py`, from scikit-learn's bundled copy of the UCI
optical digits set) and ship with the project, with held-out labelled samples. It is the one
demo whose accuracy is real: pruning and int8 show real accuracy drops, not changes of noise.

Files (resources/demos/): `digits_cnn_weights.npz` — the state dict as plain arrays (loaded
with `allow_pickle=False`: nothing is unpickled); `digits_heldout.npz` — `x` [N, 1, 8, 8]
float32 (pixels 0…16 scaled to 0…1) and `y` [N] int64, the samples training never saw.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

WEIGHTS_FILE = "digits_cnn_weights.npz"
HELDOUT_FILE = "digits_heldout.npz"
#: pixel values of the UCI optical digits run 0…16; the model sees them scaled to 0…1
PIXEL_MAX = 16.0


def demo_file(name: str) -> Path:
    """resources/demos/<name>, in a source checkout or a PyInstaller bundle (`sys._MEIPASS`)."""
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parent.parent
    return base / "resources" / "demos" / name


def build_digits_cnn() -> torch.nn.Module:
    """The architecture, untrained: three 3×3 convolutions (16, 32, 64 channels; two 2×2 max
    pools) and a two-layer head; 40.6 k parameters."""
    from torch import nn

    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 16, 3, padding=1)),
                ("bn1", nn.BatchNorm2d(16)),
                ("relu1", nn.ReLU()),
                ("conv2", nn.Conv2d(16, 32, 3, padding=1)),
                ("bn2", nn.BatchNorm2d(32)),
                ("relu2", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),  # 8×8 → 4×4
                ("conv3", nn.Conv2d(32, 64, 3, padding=1)),
                ("bn3", nn.BatchNorm2d(64)),
                ("relu3", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),  # 4×4 → 2×2
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(64 * 2 * 2, 64)),
                ("relu4", nn.ReLU()),
                ("head", nn.Linear(64, 10)),
            ]
        )
    )


def load_trained_digits_cnn() -> torch.nn.Module:
    """The architecture with the shipped trained weights, in eval mode."""
    import numpy as np
    import torch

    model = build_digits_cnn()
    with np.load(demo_file(WEIGHTS_FILE), allow_pickle=False) as arrays:
        state = {k: torch.from_numpy(arrays[k].copy()) for k in arrays.files}
    model.load_state_dict(state)
    return model.eval()


def heldout_samples() -> dict[str, Any]:
    """{'x': [N, 1, 8, 8] float32, 'y': [N] int64}: labelled samples the training never saw."""
    import numpy as np

    with np.load(demo_file(HELDOUT_FILE), allow_pickle=False) as arrays:
        return {"x": arrays["x"].astype(np.float32), "y": arrays["y"].astype(np.int64)}
