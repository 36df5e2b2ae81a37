"""The planner's flat result rows (options): JSON dicts in and out through the one record codec.

`FlatRecord` is `profiler.codec.Record` naming the plan document in its errors; unknown keys are
ignored on the way in, so documents written by newer versions still load.
"""

from __future__ import annotations

from profiler.codec import Record

PLAN_DOCUMENT = "tradeoff.plan/1"


class FlatRecord(Record):
    """For frozen dataclasses of primitives plus a `notes` tuple."""

    __document__ = PLAN_DOCUMENT
