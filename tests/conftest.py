"""Shared test set-up: Qt offscreen before any QApplication, and the project root on sys.path."""

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# Hypothesis budgets for every property test: a fixed one in CI, `HYPOTHESIS_PROFILE=long` for the
# longer run (tests/bench/fuzz_long.py).
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


import pytest  # noqa: E402

# --- pytest-xdist (`pytest -n 2`) -----------------------------------------------------------------
# A test module is one unit of work, run whole on one worker, so its module-scoped fixtures (one CLI
# run, one real worker, one PDF shared by several tests) run once. The modules of a folder in
# ONE_WORKER share a worker (a session-scoped resource of their own: the Ray head). Units start
# heaviest first so that no long module is left running alone at the end; the rest by test count.
ONE_WORKER = ("tests/cluster/",)
HEAVY_FIRST = (  # > 20 s each on a 2-core machine: seen with --durations
    "tests/reliability/test_hostile_files.py",
    "tests/cluster/",
    "tests/cli/test_bad_inputs.py",
    "tests/cli/test_cli_profile.py",
    "tests/security/test_sec_trust_and_worker.py",
    "tests/cli/test_cli_compare.py",
    "tests/gui/test_report_decision.py",
    "tests/profiler/test_sweep.py",
    "tests/cli/test_optimize_cli.py",
    "tests/test_golden_documents.py",
    "tests/gui/test_report_fill.py",
)


def _unit(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return next((d for d in ONE_WORKER if path.startswith(d)), path)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    # xdist's own `--dist loadgroup` cannot group under pytest 9 (it renames node ids through
    # `item._nodeid`, which pytest 9 no longer reads), so the grouping is a scheduler of our own,
    # used for plain `-n N` (an explicit --dist other than load keeps xdist's).
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if not getattr(self, "_ordered", False):
                self._ordered = True
                rank = {u: i for i, u in enumerate(HEAVY_FIRST)}
                units = sorted(self.workqueue.items(), key=lambda kv: (rank.get(kv[0], len(rank)), -len(kv[1])))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)


@pytest.fixture(autouse=True)
def _isolated_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's ~/.config out of every test and every test out of it: user catalog
    rows, and the calibration store `tradeoff profile` and the app record into
    (planner/calibration_store.py). Subprocesses inherit the variable."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
