#!/usr/bin/env bash
# Set everything up and run the demo (idempotent; installs only what is missing).
#   scripts/demo.sh            # build the npm package into pkg/ and serve the www/ demo at http://127.0.0.1:8080/www/
#   scripts/demo.sh --cli      # the seed search in the terminal: 20 documents, 3 questions, retrieve 20, rerank to 5
#   PORT=9000 scripts/demo.sh  # another port
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MINIRANK_CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MINIRANK_CACHE/target}"

if [ "${1:-}" = "--cli" ]; then
  bash scripts/setup.sh models
  cargo build --release --bin minirank
  BIN="$CARGO_TARGET_DIR/release/minirank"
  python3 -c 'import json,sys; [print(q) for q in json.load(open(sys.argv[1]))["questions"]]' tests/fixtures/seed000_questions.json |
  while IFS= read -r q; do
    "$BIN" search --docs tests/fixtures/seed000.jsonl --query "$q" --candidates 20 --top-k 5
    echo
  done
  exit 0
fi

bash scripts/build-wasm.sh
echo "Open http://127.0.0.1:${PORT:-8080}/www/ — everything runs in the page (Ctrl-C stops the server)."
exec python3 scripts/serve.py --port "${PORT:-8080}"
