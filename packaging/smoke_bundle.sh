#!/usr/bin/env bash
# Build the bundle, then run it as a user would: --version, a profile as JSON, and the window
# offscreen for a few seconds. Prints the bundle size.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_BUILD:-0}" = 1 ] || bash packaging/build_bundle.sh
BIN=dist/tradeoff-studio/tradeoff
"$BIN" --version
"$BIN" profile demo:resnet18 --json - | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['schema']=='tradeoff.profile/1'; print('profile ok:', d['totals']['params'], 'params,', d['totals']['latency_ms']['median'], 'ms')"
QT_QPA_PLATFORM=offscreen timeout 8 "$BIN" gui demo:mlp && status=0 || status=$?
# timeout's 124 means the window stayed up for the whole 8 s: that is the pass.
[ "$status" = 124 ] || [ "$status" = 0 ] || { echo "window exited with $status"; exit 1; }
echo "window ok (ran 8 s offscreen)"
echo "bundle size: $(du -sh dist/tradeoff-studio | cut -f1)"
