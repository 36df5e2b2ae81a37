"""Memory guard: refuse a request that would not fit, with a message, rather than thrash or die.

The caller estimates what a request needs (weights + activations, both counted by the static
analysis) and calls `check_memory` before it allocates anything. Free memory is psutil's
``virtual_memory().available`` for the CPU, and ``torch.cuda.mem_get_info`` for a CUDA device.
Import-light: psutil and torch are imported inside the functions.
"""

from __future__ import annotations

from .errors import MeasureError

HEADROOM = 0.8  # use at most this share of what is free: the allocator, the OS and the app need the rest
GIB = 1024**3


class NotEnoughMemory(MeasureError):
    """A request needs more memory than is free; the worker reports it as a failure of kind "memory"."""

    failure_kind = "memory"

    def __init__(self, file: str, problem: str, *, needed: int, available: int) -> None:
        super().__init__(file, problem)
        self.needed = int(needed)
        self.available = int(available)


def _cuda_index(device: str) -> int | None:
    """The CUDA device index for "cuda" / "cuda:N", or None for anything else."""
    if device == "cuda":
        return None
    _, _, index = device.partition(":")
    return int(index) if index.isdigit() else None


def available_bytes(device: str = "cpu") -> int:
    """Bytes free on ``device`` now: system memory for "cpu", the GPU's free memory for "cuda[:N]".

    For a CUDA device this asks torch (which creates a CUDA context in this process, so call it in
    the worker); without torch or without CUDA it falls back to system memory.
    """
    if device.split(":")[0] == "cuda":
        try:
            import torch

            if torch.cuda.is_available():
                index = _cuda_index(device)
                free, _total = torch.cuda.mem_get_info(index if index is not None else torch.cuda.current_device())
                return int(free)
        except ImportError:
            pass
    import psutil

    return int(psutil.virtual_memory().available)


def _gib(n: float) -> str:
    g = n / GIB
    if g >= 10:
        return f"{g:.0f}"
    if g >= 1:
        return f"{g:.1f}"
    return f"{g:.2g}"


def check_memory(estimate_bytes: int, *, device: str = "cpu", what: str, headroom: float = HEADROOM) -> None:
    """Raise `NotEnoughMemory` (a `MeasureError`, exit 3) when ``estimate_bytes`` > free × headroom.

    ``what`` names the thing being measured (the model file), as every StudioError does.
    """
    free = available_bytes(device)
    if estimate_bytes <= free * headroom:
        return
    where = "" if device == "cpu" else f" on {device}"
    usable = f" ({_gib(free * headroom)} GiB usable)" if estimate_bytes <= free else ""
    raise NotEnoughMemory(
        what,
        f"needs about {_gib(estimate_bytes)} GiB but only {_gib(free)} GiB is free{where}{usable}; "
        "lower the batch or sequence length",
        needed=estimate_bytes,
        available=free,
    )
