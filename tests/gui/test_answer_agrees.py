"""One answer everywhere: `tradeoff plan --json`'s `answer`, the plan table's first row and first
line, the app's planner headline and the PDF's first page name the same option and the same cost
(planner.answer computes it once). Checked with a load (ranked by $/month) and without one
(ranked by $/M at the stated utilisation)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdf
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "planner"))

from plan_fixtures import resnet50  # noqa: E402


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("qps", [200.0, None], ids=["at-a-load", "no-load"])
def test_cli_app_and_pdf_give_the_same_answer(qps: float | None, tmp_path: Path, qapp: Any) -> None:
    from gui.planner_panel import PlannerPanel
    from gui.report import build_report_inputs, render_report_pdf
    from planner.catalog import load_catalog
    from planner.options import PlanOptions
    from planner.plan import Plan, plan
    from profiler import units

    profile = resnet50()
    catalog = load_catalog(include_user=False)
    options = PlanOptions(serve_qps=qps, slo_ms=50.0, train_samples=1.28e6)
    expected = plan(profile, options, catalog)
    ans = expected.answer
    assert ans is not None and ans.serving is not None and ans.training is not None
    first = expected.inference.options[0]
    assert (ans.serving.instance, ans.serving.region) == (first.instance, first.region)
    cost = ans.serving.usd_per_month if qps else ans.serving.usd_per_million
    assert cost is not None and cost == (first.usd_per_month if qps else first.usd_per_million)

    # the command line: --json carries the same answer, the text leads with its headline
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile.to_dict()), encoding="utf-8")
    args = [sys.executable, "-m", "tradeoff", "plan", str(path), "--slo-ms", "50", "--train-samples", "1.28e6"]
    if qps:
        args += ["--serve-qps", str(qps)]
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    doc = json.loads(
        subprocess.run([*args, "--json", "-"], capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout
    )
    assert Plan.from_dict(doc).answer == ans
    text = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[1] == ans.serving.headline and lines[2] == ans.training.headline
    assert first.instance in next(line for line in lines if line.lstrip().startswith("1 "))

    # the app: the planner panel's summary leads with the same sentence
    panel = PlannerPanel(catalog)
    panel.qps.setValue(qps or 0.0)
    panel.slo.setValue(50.0)
    panel.train_size.setText("1.28M")
    panel.set_profile(profile)
    assert panel.plan is not None and panel.plan.answer == ans
    assert ans.serving.headline[1:] in panel.summary.text()
    assert panel.serving_cost(profile) == cost

    # the PDF's first page: the recommendation and the cost table name the same instance and cost
    inputs = build_report_inputs(profile, [], options=options, catalog=catalog)
    pdf = tmp_path / "r.pdf"
    render_report_pdf(inputs, str(pdf))
    page1 = _flat(pypdf.PdfReader(str(pdf)).pages[0].extract_text())
    assert "Recommendation" in page1 and first.instance in page1 and units.usd(cost) in page1
