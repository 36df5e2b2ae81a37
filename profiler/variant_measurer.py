"""Measuring variants one at a time in a measurement worker, as a search asks for them
(`tradeoff optimize` and the app's Optimize…), and the one-line error a failed run means."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import InputError, StudioError
from .events import Cancelled, Failed, Finished, RunEvent


def failure_error(failure: Failed, model: str) -> StudioError:
    """The one-line error for a run's `Failed` event: its own file when the core raised a
    StudioError, else (a crash, a time limit) the model; exit 2 or 3 as its kind says."""
    from profiler.errors import MeasureError

    message = failure.message or "failed"
    file = failure.file or model
    prefix = f"{file}: "
    problem = message[len(prefix) :] if message.startswith(prefix) else message
    return (InputError if failure.exit_code == 2 else MeasureError)(file, problem, details=failure.details)


class VariantMeasurer:
    """Measure variants one at a time in one measurement worker (the model loads once), as an
    optimizer asks for them: `measure(variant, timed)` -> VariantResult (`error` set when the
    variant failed; a crashed worker is replaced for the next one). A model that cannot be
    opened at all raises its StudioError. Used by `tradeoff optimize` and the app's Optimize…"""

    def __init__(
        self,
        source: str,
        *,
        trust: bool,
        request: Any,
        inputs: str | None,
        time_limit_s: float,
        on_event: Callable[[RunEvent], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        from profiler.tasks import request_to_dict
        from profiler.worker import Runner

        self.payload = {"source": source, "trust": trust, "request": request_to_dict(request), "inputs": inputs}
        self.source = source
        self.time_limit_s = time_limit_s
        self.on_event = on_event
        self.should_stop = should_stop
        self.runner = Runner()

    def __enter__(self) -> VariantMeasurer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.runner.close()

    def measure(self, variant: Any, timed: bool) -> Any:
        from profiler.whatif import VariantResult

        payload = {**self.payload, "variant": variant.to_dict(), "timed": timed}
        run_id = self.runner.submit("profiler.tasks:variant_task", payload, time_limit_s=self.time_limit_s)
        while True:  # in slices, so `should_stop` (the app's Cancel) is seen within half a second
            try:
                end = self.runner.wait(run_id, timeout_s=0.5, on_event=self.on_event)
                break
            except TimeoutError:
                if self.should_stop():
                    self.runner.cancel()
        if isinstance(end, Finished):
            return VariantResult.from_dict(end.result)
        failed = end if isinstance(end, Failed) else None
        if failed is not None and failed.stage == "load":
            raise failure_error(failed, self.source)
        message = failed.message if failed is not None else Cancelled.kind
        return VariantResult(variant, None, None, None, {}, error=message)
