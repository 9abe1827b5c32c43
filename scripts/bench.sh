#!/usr/bin/env bash
# Benchmarks (not tests): native figures, then minirank vs transformers.js in headless Chromium.
#   scripts/bench.sh              # = npm run bench
# Writes benches/results/{native,memory,browser}.json and prints the tables; the last one lists the
# page-cost targets (memory, warm start, size, speed) with this run's figures and transformers.js' beside them.
#   BENCH_ONLY=minirank,cold npm run bench    # a subset of the browser configurations (see run.mjs)
#   scripts/bench.sh pgvector     # = npm run bench:pgvector: stage one on PostgreSQL + pgvector at
#                                 # 100k and 1M rows, and search end to end with candidates from the
#                                 # server (benches/pgvector/run.mjs says what is measured; writes
#                                 # benches/results/pgvector.json). BENCH_PG_SIZES=100000: one size
#                                 # (1M takes about 25 minutes on 2 cores)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MINIRANK_CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MINIRANK_CACHE/target}"
if [ "${1:-}" = pgvector ]; then
  bash scripts/pg.sh install
  cargo build --release --quiet --bin minirank
  [ -f pkg/minirank.js ] || bash scripts/build-wasm.sh
  MINIRANK="$CARGO_TARGET_DIR/release/minirank"
  SCIFACT="$ROOT/../shared/data/scifact"
  CORPUS="$(bash scripts/pg.sh export "$MINIRANK" "$SCIFACT" scifact)"
  QUERIES="$(bash scripts/pg.sh export "$MINIRANK" "$SCIFACT/queries.jsonl" scifact-queries)"
  eval "$(bash scripts/pg.sh start)"
  trap 'bash scripts/pg.sh stop "$MINIRANK_PG_DATA"' EXIT
  export PGOPTIONS="-c client_min_messages=warning"
  bash scripts/pg.sh load "$MINIRANK" "$CORPUS" base
  MINIRANK="$MINIRANK" BENCH_PG_QUERIES="$QUERIES" node benches/pgvector/run.mjs
  exit
fi
bash scripts/setup.sh browser
bash scripts/build-wasm.sh
cargo bench --bench native
cargo bench --bench memory
# the peer, from npm, without install scripts (onnxruntime-node's downloads binaries and fails offline)
(cd benches/browser && npm install --ignore-scripts --no-audit --no-fund --cache "$MINIRANK_CACHE/npm" --loglevel=error)
node benches/browser/run.mjs
