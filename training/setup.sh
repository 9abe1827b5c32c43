#!/usr/bin/env bash
# Create (or reuse) the training venv under ${MINIRANK_CACHE:-$HOME/.cache/minirank}/train-venv. Idempotent.
set -euo pipefail
CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
VENV="$CACHE/train-venv"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$CACHE/pip" "$CACHE/train" "$CACHE/logs"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if "$VENV/bin/python" - "$HERE/requirements.txt" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    name, want = line.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        ok = False
sys.exit(0 if ok else 1)
PY
then
  echo "train-venv already has the pinned packages: $VENV"
else
  "$VENV/bin/pip" install --cache-dir "$CACHE/pip" -r "$HERE/requirements.txt"
fi
"$VENV/bin/python" -c "import torch, transformers, onnxruntime, onnx, numpy, rank_bm25, snowballstemmer, tokenizers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'onnxruntime', onnxruntime.__version__)"
