#!/usr/bin/env bash
# Build the one-folder bundle into dist/tradeoff-studio (needs `pip install pyinstaller`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/tradeoff-studio.spec
du -sh dist/tradeoff-studio
