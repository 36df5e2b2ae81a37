#!/usr/bin/env bash
# Render each page of a report PDF to PNG, for looking at the layout.
#
#   packaging/render_report_pages.sh REPORT.pdf [OUT_DIR] [DPI]
#   packaging/render_report_pages.sh --demo [OUT_DIR] [DPI]   # writes the demo report first
#
# --demo runs `tradeoff report demo:mlp` (variants prune 0,0.5 × fp32,int8; training on 1e6
# samples; 50 requests/s) into OUT_DIR/demo-report.pdf, then renders it. Needs pdftoppm
# (Debian/Ubuntu: apt-get install poppler-utils). Prints the PNG paths, one a line.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$here/.venv/bin/python}"
[ -x "$py" ] || py=python3

if ! command -v pdftoppm >/dev/null 2>&1; then
    echo "error: pdftoppm: not found (apt-get install poppler-utils)" >&2
    exit 2
fi

if [ "${1:-}" = "--demo" ]; then
    out="${2:-$here/build/report-pages}"
    dpi="${3:-100}"
    mkdir -p "$out"
    pdf="$out/demo-report.pdf"
    QT_QPA_PLATFORM=offscreen "$py" -m tradeoff \
        report demo:mlp --prune 0,0.5 --precision fp32,int8 --train-samples 1e6 --serve-qps 50 \
        --page-size "${PAGE_SIZE:-a4}" -o "$pdf" >&2
else
    pdf="${1:?usage: $0 REPORT.pdf [OUT_DIR] [DPI] | --demo [OUT_DIR] [DPI]}"
    out="${2:-$(dirname "$pdf")/$(basename "$pdf" .pdf)-pages}"
    dpi="${3:-100}"
    [ -f "$pdf" ] || { echo "error: $pdf: no such file" >&2; exit 2; }
    mkdir -p "$out"
fi

stem="$out/$(basename "$pdf" .pdf)"
rm -f "$stem"-*.png
pdftoppm -r "$dpi" -png "$pdf" "$stem"
ls -1 "$stem"-*.png
