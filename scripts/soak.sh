#!/usr/bin/env bash
# The long soak of the reliability issue: N varied search calls (default 10,000; one in ten invalid)
# on one instance in Node, and in headless Chromium on the main thread and through minirank/worker.
# Prints p50/p99 latency and wasm memory per tenth of the calls; fails on any unexpected error, a
# changed seed answer, or memory that grew more than 5% after the first tenth. The test suite runs
# the same tests with 200 (Node) and 100 (Chromium) calls. At ~0.3 s a call on one core, 10,000
# calls take about an hour per setting.
#   scripts/soak.sh [calls]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ -f pkg/minirank.js ] || bash scripts/build-wasm.sh
export MINIRANK_SOAK_CALLS="${1:-10000}"
node --test --test-concurrency=1 tests/node/soak.test.mjs tests/e2e/soak.test.mjs
