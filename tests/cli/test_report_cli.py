"""`tradeoff report` and its options, through the command's handler (tradeoff.commands.report)
with the real `tradeoff` parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

pypdf = pytest.importorskip("pypdf")


def _parser() -> argparse.ArgumentParser:
    from tradeoff.main import build_parser

    return build_parser()


def _run(argv: list[str]) -> int:
    """What tradeoff.main.main does with a handler: StudioError -> its exit code."""
    from profiler.errors import StudioError
    from tradeoff.commands import report, trace

    args = _parser().parse_args(argv)
    try:
        return {"report": report.run, "trace": trace.run}[args.command](args)
    except StudioError as exc:
        print(f"error: {exc}", file=__import__("sys").stderr)
        return exc.exit_code


def test_report_writes_pdf_json_and_exports(tmp_path: Path, capsys: Any) -> None:
    pdf = tmp_path / "mlp.pdf"
    rc = _run(
        [
            "report",
            "demo:mlp",
            "--no-latency",
            "--prune",
            "0,0.5",
            "--precision",
            "fp32,int8",
            "--train-samples",
            "1e6",
            "--page-size",
            "letter",
            "-o",
            str(pdf),
            "--json",
            str(tmp_path / "report.json"),
            "--csv",
            str(tmp_path / "costs.csv"),
            "--export-dir",
            str(tmp_path / "export"),
        ]
    )
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert f"wrote {pdf}" in out.out
    reader = pypdf.PdfReader(str(pdf))
    assert float(reader.pages[0].mediabox.height) == pytest.approx(792.0, abs=0.5)
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "mlp" in text and "latency not measured" in text and "Variants explored" in text
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["schema"] == "tradeoff.report/1" and doc["pages"] == len(reader.pages)
    assert doc["profile"]["schema"] == "tradeoff.profile/1" and doc["sweep"]["schema"] == "tradeoff.sweep/1"
    assert doc["plan"]["schema"] == "tradeoff.plan/1"
    assert len(doc["sweep"]["variants"]) == 4
    assert (tmp_path / "costs.csv").read_text().startswith("section,")
    assert {p.name for p in (tmp_path / "export").iterdir()} >= {
        "layers.csv",
        "profile.json",
        "variants.csv",
        "sweep.json",
        "costs.csv",
        "plan.json",
    }


def test_unwritable_destination_is_exit_2_before_measuring(tmp_path: Path, capsys: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    before = sorted(tmp_path.iterdir())
    rc = _run(["report", "demo:mlp", "--no-latency", "-o", str(blocker / "r.pdf")])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {blocker / 'r.pdf'}: ")
    rc = _run(["report", "demo:mlp", "--no-latency", "-o", str(tmp_path / "nowhere" / "r.pdf")])
    assert rc == 2
    assert sorted(tmp_path.iterdir()) == before


def test_bad_options_are_exit_2(tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["report", "demo:mlp", "-o", str(tmp_path / "r.pdf"), "--page-size", "a3"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["report", "demo:mlp"])  # -o is required
    assert info.value.code == 2
    assert _run(["report", "demo:mlp", "-o", str(tmp_path / "r.pdf"), "--min-cosine", "x"]) == 2
    assert _run(["report", "demo:mlp", "-o", str(tmp_path / "r.pdf"), "--mfu", "2"]) == 2
    assert "error: --mfu" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
