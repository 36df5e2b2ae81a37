"""The longer fuzz run, outside CI (issue 8, item 5). Prints what ran; exits 1 on a failure.

    .venv/bin/python tests/bench/fuzz_long.py                 # HYPOTHESIS_PROFILE=long: 5000 examples a test
    .venv/bin/python tests/bench/fuzz_long.py --examples 20000 --flips 2000
    .venv/bin/python tests/bench/fuzz_long.py --examples 200 -k project   # a quick look at one area

Runs every hypothesis property test of tests/test_fuzz.py and tests/reliability/ (format sniffing,
shape parsing, the catalog loader, the project-file loader), plus the seeded bit-flip scans of
tests/reliability/test_hostile_files.py with `--flips` flips per file (RELIABILITY_FLIPS), in one
pytest child process. `--examples N` overrides every test's example budget, explicit `@settings`
included (tests/test_fuzz.py pins the catalog test at 40). Tests marked xfail (known product
bugs, see their reasons) run too and are reported as such.

For each test it prints the examples run (hypothesis statistics: passing + failing, all phases)
and the outcome, then the totals.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["tests/test_fuzz.py", "tests/reliability"]

PLUGIN = '''
"""Keeps only the property tests and the bit-flip scans; overrides their example budget."""
import os

from hypothesis import settings


def pytest_collection_modifyitems(session, config, items):
    n = os.environ.get("FUZZ_LONG_EXAMPLES")
    keep, drop = [], []
    for item in items:
        fn = getattr(item, "obj", None)
        hypothesis_test = bool(getattr(fn, "is_hypothesis_test", False))
        if hypothesis_test or item.name.startswith("test_bit_flipped"):
            keep.append(item)
            if hypothesis_test and n:
                current = getattr(fn, "_hypothesis_internal_use_settings", None)
                fn._hypothesis_internal_use_settings = settings(current, max_examples=int(n), deadline=None)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
'''

STAT_TEST = re.compile(r"^(tests/\S+::\S+):\s*$")
STAT_COUNTS = re.compile(r"-\s+(\d+) passing, (\d+) failing, and (\d+) invalid")


def parse_statistics(text: str) -> dict[str, int]:
    """Examples run per test (passing + failing over every phase) from --hypothesis-show-statistics."""
    runs: dict[str, int] = {}
    current: str | None = None
    for line in text.splitlines():
        m = STAT_TEST.match(line.strip())
        if m:
            current = m.group(1)
            runs.setdefault(current, 0)
            continue
        m = STAT_COUNTS.search(line)
        if m and current is not None:
            runs[current] += int(m.group(1)) + int(m.group(2))
    return runs


def parse_outcomes(junit: Path) -> dict[str, tuple[str, float, str]]:
    """test id -> (outcome, seconds, first line of the failure) from pytest's JUnit XML."""
    outcomes: dict[str, tuple[str, float, str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        test_id = f"{path}::{case.get('name')}"
        outcome, detail = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, detail = (
                    "FAILED",
                    (child.get("message") or "").splitlines()[0][:160] if child.get("message") else "",
                )
            elif child.tag == "skipped":
                kind = child.get("type", "")
                outcome = "xfailed" if "xfail" in kind else "skipped"
                detail = (child.get("message") or "")[:100]
        outcomes[test_id] = (outcome, float(case.get("time", 0.0)), detail)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--examples", type=int, default=None, help="examples per property test (default: the 'long' profile, 5000)"
    )
    ap.add_argument("--flips", type=int, default=300, help="seeded bit flips per file in the flip scans (default 300)")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random)")
    ap.add_argument("-k", dest="keyword", default=None, help="pytest -k expression to narrow the tests")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fuzz-long-") as tmp:
        Path(tmp, "fuzz_long_plugin.py").write_text(PLUGIN)
        junit = Path(tmp, "junit.xml")
        env = {
            **os.environ,
            "HYPOTHESIS_PROFILE": "long",
            "RELIABILITY_FLIPS": str(args.flips),
            "PYTHONPATH": os.pathsep.join([tmp, str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        }
        if args.examples:
            env["FUZZ_LONG_EXAMPLES"] = str(args.examples)
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            *TARGETS,
            "-p",
            "fuzz_long_plugin",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
            f"--junitxml={junit}",
            "-o",
            "junit_family=xunit1",
            "-q",
            "-rN",
        ]
        if args.seed is not None:
            cmd.append(f"--hypothesis-seed={args.seed}")
        if args.keyword:
            cmd += ["-k", args.keyword]
        budget = args.examples or 5000
        print(f"fuzz_long: {budget} examples per property test, {args.flips} bit flips per file; running …", flush=True)
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        took = time.monotonic() - t0
        runs = parse_statistics(proc.stdout)
        outcomes = parse_outcomes(junit) if junit.exists() else {}

    if not outcomes:
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n")
        print("fuzz_long: pytest produced no results")
        return 1
    width = max(len(t) for t in outcomes)
    print(f"\n{'test':<{width}}  {'examples':>9}  {'seconds':>8}  outcome")
    total_examples = 0
    failed = []
    for test_id, (outcome, secs, detail) in sorted(outcomes.items()):
        n = runs.get(test_id)
        if n is None and "test_bit_flipped" in test_id:
            n = args.flips
        total_examples += n or 0
        shown = "—" if n is None else str(n)
        print(
            f"{test_id:<{width}}  {shown:>9}  {secs:8.1f}  {outcome}{(': ' + detail) if detail and outcome == 'FAILED' else ''}"
        )
        if outcome == "FAILED":
            failed.append(test_id)
    counts = {k: sum(1 for o, _, _ in outcomes.values() if o == k) for k in ("passed", "FAILED", "xfailed", "skipped")}
    print(
        f"\n{len(outcomes)} tests, {total_examples} examples in {took:.0f} s: "
        + ", ".join(f"{v} {k.lower()}" for k, v in counts.items() if v)
    )
    if failed:
        print("\nfailures (falsifying examples are in the pytest output below):")
        for test_id in failed:
            print(f"  {test_id}")
        tail = proc.stdout[proc.stdout.find("= FAILURES =") :] if "= FAILURES =" in proc.stdout else proc.stdout
        print(tail[-12000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
