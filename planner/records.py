"""Round-tripping the planner's flat result rows (options) to plain JSON dicts."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Self


class FlatRecord:
    """For frozen dataclasses of primitives plus a `notes` tuple: JSON dicts in and out.

    Unknown keys are ignored on the way in, so documents written by newer versions still load.
    """

    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        kw = {k: v for k, v in d.items() if k in names}
        kw["notes"] = tuple(kw.get("notes", ()))
        return cls(**kw)
