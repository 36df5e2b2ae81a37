"""The `tradeoff` command line (`python -m tradeoff`, console script `tradeoff`).

Layout: `main` assembles the parser and runs a command (error lines, exit codes, --debug);
`options` holds every argparse option and its parsing; `worker_runs` runs models in the
measurement worker; `commands/` has one module per command. Import-light: Qt, torch and
onnxruntime load only when a command needs them. Dependencies point one way:
tradeoff → gui (only `gui` and `report`, lazily) → planner → profiler.
"""
