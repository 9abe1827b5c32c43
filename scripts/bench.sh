#!/usr/bin/env bash
# Benchmarks (not tests): native figures, then minirank vs transformers.js in headless Chromium.
#   scripts/bench.sh              # = npm run bench
# Writes benches/results/{native,memory,browser}.json and prints the tables; the last one lists the
# page-cost targets (memory, warm start, size, speed) with this run's figures and transformers.js' beside them.
#   BENCH_ONLY=minirank,cold npm run bench    # a subset of the browser configurations (see run.mjs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MINIRANK_CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MINIRANK_CACHE/target}"
bash scripts/setup.sh browser
bash scripts/build-wasm.sh
cargo bench --bench native
cargo bench --bench memory
# the peer, from npm, without install scripts (onnxruntime-node's downloads binaries and fails offline)
(cd benches/browser && npm install --ignore-scripts --no-audit --no-fund --cache "$MINIRANK_CACHE/npm" --loglevel=error)
node benches/browser/run.mjs
