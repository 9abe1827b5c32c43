#!/usr/bin/env bash
# Set everything up and run the seed search: the 20 Python-concurrency documents of seed 000,
# its three questions, retrieve 20 with the bi-encoder, rerank to 5 with the cross-encoder.
#   scripts/demo.sh                 # CLI: the three seed questions, both stages shown
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MINIRANK_CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MINIRANK_CACHE/target}"

bash scripts/setup.sh models
cargo build --release --bin minirank
BIN="$CARGO_TARGET_DIR/release/minirank"
python3 -c 'import json,sys; [print(q) for q in json.load(open(sys.argv[1]))["questions"]]' tests/fixtures/seed000_questions.json |
while IFS= read -r q; do
  "$BIN" search --docs tests/fixtures/seed000.jsonl --query "$q" --candidates 20 --top-k 5
  echo
done
