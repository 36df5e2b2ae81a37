"""A model saved with torch.save(model) from a script that defines its class cannot be unpickled
anywhere else: the error says so and what to open instead, not Python's "Can't get attribute"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from profiler.errors import InputError
from profiler.loading import load_model

SCRIPT = """
import torch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)
    def forward(self, x):
        return self.fc(x)
torch.save(Net(), "net.pt")
"""


def test_a_class_of_the_saving_script_is_named_with_the_way_out(tmp_path: Path) -> None:
    (tmp_path / "save.py").write_text(SCRIPT)
    subprocess.run([sys.executable, "save.py"], cwd=tmp_path, check=True, timeout=120)
    with pytest.raises(InputError) as err:
        load_model(str(tmp_path / "net.pt"), trust=True)  # our own file: trusted on purpose
    text = str(err.value)
    assert "class Net of the script that saved it" in text
    assert "file.py:build" in text and "ONNX" in text
    assert "Can't get attribute" not in text and "__mp_main__" not in text and "\n" not in text
