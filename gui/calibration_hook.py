"""The app's hook into the calibration store (planner/calibration_store.py): every measured
profile calibrates the projection for the device it ran on. Qt-free; the window calls
`record_profile` when a run finishes and shows the line it returns (status bar, planner panel).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.catalog import Catalog
    from profiler.result import Profile

#: Profiles already recorded in this session: a result answered from the run cache, or shown
#: again, is not a new measurement.
_seen: set[str] = set()


def _identity(profile: Profile) -> str:
    lat = profile.totals.latency_ms
    return json.dumps(
        [profile.model.source, profile.config.to_dict(), None if lat is None else [lat.median, lat.p10, lat.p90]],
        sort_keys=True,
        default=str,
    )


def record_profile(profile: Profile | None, catalog: Catalog | None = None) -> str | None:
    """Record a freshly measured profile as calibration for its device and return one line for
    the user ("Calibrated this CPU (fp32): 3 runs (±6 %)", or why it could not be written);
    None when the profile does not calibrate anything (not measured, meta device, no per-layer
    latency, noisy timing) or was recorded already. Never raises."""
    if profile is None:
        return None
    try:
        key = _identity(profile)
    except Exception:
        return None
    if key in _seen:
        return None
    from planner.calibration_store import record_profile as record

    done = record(profile, catalog=catalog)
    if done.calibration is not None:
        _seen.add(key)
    return done.status
