"""Errors a user can act on. Each carries the file it is about and one line of text.

`InputError` is unusable input or usage (CLI exit 2); `MeasureError` is a model that loaded
but could not be measured (CLI exit 3). Anything else escaping the core is a bug.
"""

from __future__ import annotations

from typing import Any


class StudioError(Exception):
    """An error with the file it concerns; `str()` is the one line shown to the user."""

    exit_code = 2

    def __init__(self, file: str, problem: str, *, details: dict[str, Any] | None = None) -> None:
        self.file = str(file)
        self.problem = " ".join(str(problem).split())  # one line, always
        # Machine-readable facts about the failure (e.g. {"needs_trust": True}) so the app can
        # react (ask for trust, ask for a shape) without parsing the message.
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{self.file}: {self.problem}")


class InputError(StudioError):
    """Missing, empty, corrupt or unsupported file; untrusted pickle; bad shape or option."""

    exit_code = 2


class MeasureError(StudioError):
    """The model loaded but its forward raised, memory would run out, or a time limit passed."""

    exit_code = 3


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message (its type name when it has none), for the
    one-line errors users see."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:limit]
