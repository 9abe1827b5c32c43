#!/usr/bin/env bash
# Build the npm package into pkg/: the wasm core (SIMD128, release, LTO), its wasm-bindgen glue,
# the JS/TS API and worker from pkg-config/, and the two int8 models, converted from ONNX to tract
# NNEF by the native CLI (`minirank convert`: decluttered, int8 linear layers packed, so that a page
# skips tract's ONNX parsing, type inference and decluttering at every load).
#   scripts/build-wasm.sh          # build pkg/
#   scripts/build-wasm.sh --pack   # also `npm pack` it into pkg/ (prints the tarball's contents)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export MINIRANK_CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MINIRANK_CACHE/target}"
bash scripts/setup.sh models >&2
bash scripts/setup.sh wasm >&2
eval "$(bash scripts/setup.sh env)"
TC="${MINIRANK_WASM_TOOLCHAIN:+ +$MINIRANK_WASM_TOOLCHAIN}"

# Two builds of the core, with the same JS glue: the default reads tract NNEF only (no tract-onnx,
# no protobuf: the package's models are NNEF, converted below), the other also ONNX, for users' ONNX
# files (pkg-config/core.js fetches it only then). Both: whole-program LTO, one codegen unit, no
# debug info, and these crates built for size ("crate=level ...", opt-level 3 for the others):
# minirank (its int8 kernel and attention's masked softmax: 95% of the arithmetic) and tract-linalg
# (the f32 kernels) stay at 3. tract-core at `s` halves its code (its operators are generic over
# every datum type); what of it ran hot in wasm, the broadcast add before each attention softmax,
# is minirank's MaskedSoftmax now. The gain in size and the cost in speed: docs/performance.md,
# "Building for size".
MINIRANK_WASM_SIZE_LEVELS="${MINIRANK_WASM_SIZE_LEVELS-tract-core=s ndarray=s tract-data=s tokenizers=s regex-automata=s serde_json=s rustfft=z tract-nnef=z regex-syntax=z erased-serde=z}"
WASM="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/minirank.wasm"
SIZE_FLAGS=()
for kv in $MINIRANK_WASM_SIZE_LEVELS; do
  level="${kv#*=}"; [[ $level =~ ^[0-9]$ ]] || level="\"$level\""
  SIZE_FLAGS+=(--config "profile.release.package.${kv%%=*}.opt-level=$level")
done
rm -rf pkg "$CARGO_TARGET_DIR/glue" && mkdir -p pkg/models/bi-encoder pkg/models/cross-encoder
# Each also built with the `relaxed-simd` feature: a second int8 kernel on WebAssembly relaxed SIMD
# (the module then validates only where the engine has it; pkg-config/lib/load-core.js fetches it
# there). The feature changes only minirank's own code: the dependencies' builds are shared.
for core in nnef onnx nnef-relaxed onnx-relaxed; do
  features=(); [[ $core = nnef* ]] && features=(--no-default-features)
  [[ $core = *-relaxed ]] && features+=(--features relaxed-simd)
  echo "[build] cargo$TC build --target wasm32-unknown-unknown --release --lib ${features[*]}" >&2
  CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    cargo $TC build "${SIZE_FLAGS[@]}" --target wasm32-unknown-unknown --release --lib "${features[@]}"
  # No name section (docs/performance.md, "Building for size"); panic messages are
  # kept (console_error_panic_hook), only wasm function names in stack traces are lost.
  wasm-bindgen --target web --out-dir "$CARGO_TARGET_DIR/glue/$core" --out-name minirank_core --remove-name-section "$WASM"
done
cp "$CARGO_TARGET_DIR/glue/nnef/minirank_core_bg.wasm" pkg/minirank_core_bg.wasm
cp "$CARGO_TARGET_DIR/glue/onnx/minirank_core_bg.wasm" pkg/minirank_core_onnx_bg.wasm
cp "$CARGO_TARGET_DIR/glue/nnef-relaxed/minirank_core_bg.wasm" pkg/minirank_core_relaxed_bg.wasm
cp "$CARGO_TARGET_DIR/glue/onnx-relaxed/minirank_core_bg.wasm" pkg/minirank_core_onnx_relaxed_bg.wasm
# A relaxed core runs with its kind's glue: the same exports and imports.
for kind in nnef onnx; do
  cmp -s "$CARGO_TARGET_DIR/glue/$kind/minirank_core.js" "$CARGO_TARGET_DIR/glue/$kind-relaxed/minirank_core.js" ||
    { echo "build-wasm.sh: the $kind core's glue differs from its relaxed build's" >&2; exit 1; }
done
# One glue for both: the ONNX build's, which provides one import more (getrandom's, for tract-onnx).
# Each core gets its own copy, so that a page can hold both instances. Checked: the NNEF build's
# glue is the same file without that import.
cp "$CARGO_TARGET_DIR/glue/onnx/minirank_core.js" pkg/minirank_core.js
cp "$CARGO_TARGET_DIR/glue/onnx/minirank_core.js" pkg/minirank_core_onnx.js
cp "$CARGO_TARGET_DIR/glue/onnx/minirank_core.d.ts" pkg/minirank_core.d.ts
python3 - "$CARGO_TARGET_DIR/glue" <<'PY'
import re, sys
nnef, onnx = (open(f"{sys.argv[1]}/{c}/minirank_core.js").read() for c in ("nnef", "onnx"))
getrandom = r"\n *(__wbg_getRandomValues_[0-9a-f]+): function\(\) \{ return handleError\(function \(arg0, arg1\) \{\n *globalThis\.crypto\.getRandomValues\(getArrayU8FromWasm0\(arg0, arg1\)\);\n *\}, arguments\); \},"
if re.sub(getrandom, lambda m: m.group(0) if m.group(1) in nnef else "", onnx) != nnef:
    sys.exit("build-wasm.sh: the NNEF and ONNX cores' wasm-bindgen glue differ by more than getrandom's import; ship a glue per core")
PY
cp pkg-config/*.js pkg-config/*.d.ts pkg/
mkdir -p pkg/lib && cp pkg-config/lib/*.js pkg/lib/
echo "[build] cargo build --release --bin minirank; minirank convert (ONNX -> NNEF)" >&2
cargo build --release --bin minirank
for role in bi-encoder cross-encoder; do
  "$CARGO_TARGET_DIR/release/minirank" convert --role "$role" "models/$role/model.onnx" "pkg/models/$role/model.nnef.tar"
done
cp models/bi-encoder/config.json pkg/models/bi-encoder/
cp models/cross-encoder/{config.json,MODEL_CARD.md} pkg/models/cross-encoder/
# Both tokenizers written compactly, as Hugging Face tokenizers saves them (key order kept): the two
# then differ only in their truncation, and the core parses the shared vocabulary once
# (src/tokenize.rs); 60 KB less to download too.
python3 - <<'PY'
import json
for role in ["bi-encoder", "cross-encoder"]:
    tokenizer = json.load(open(f"models/{role}/tokenizer.json", encoding="utf-8"))
    with open(f"pkg/models/{role}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, separators=(",", ":"), ensure_ascii=False)
PY
cp pkg-config/README.md pkg/README.md
cp pkg-config/LICENSE-MODELS.md pkg/LICENSE-MODELS.md

python3 - "$ROOT" <<'PY'
import hashlib, json, os, re, sys
root = sys.argv[1]
pkg = os.path.join(root, "pkg")
version = re.search(r'^version = "([^"]+)"', open(os.path.join(root, "Cargo.toml")).read(), re.M).group(1)
manifest = json.load(open(os.path.join(root, "pkg-config", "package.json")))
manifest["version"] = version
json.dump(manifest, open(os.path.join(pkg, "package.json"), "w"), indent=2)
models = {}
for role, folder in [("biEncoder", "bi-encoder"), ("crossEncoder", "cross-encoder")]:
    models[role] = {}
    for key, name in [("model", "model.nnef.tar"), ("tokenizer", "tokenizer.json"), ("config", "config.json")]:
        path = os.path.join(pkg, "models", folder, name)
        data = open(path, "rb").read()
        models[role][key] = {"path": f"./models/{folder}/{name}", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
CORES = [("DEFAULT_WASM", "minirank_core_bg.wasm"), ("ONNX_WASM", "minirank_core_onnx_bg.wasm"),
         ("RELAXED_WASM", "minirank_core_relaxed_bg.wasm"), ("ONNX_RELAXED_WASM", "minirank_core_onnx_relaxed_bg.wasm")]
cores = {name: open(os.path.join(pkg, name), "rb").read() for _, name in CORES}


def table(name, entry):
    """`export const NAME = { role: { key: <entry(role, key, m)> } }`"""
    rows = [f"export const {name} = {{"]
    for role, files in models.items():
        rows.append(f"  {role}: {{")
        rows += [f"    {key}: {{ {entry(role, key, m)} }}," for key, m in files.items()]
        rows.append("  },")
    return "\n".join(rows + ["};", ""])


with open(os.path.join(pkg, "manifest.js"), "w") as f:
    f.write("// Generated by scripts/build-wasm.sh: the files of the default models (paths, SHA-256, sizes;\n")
    f.write("// no URLs, so importing this emits no model into a build) and the wasm core.\n")
    f.write(table("MODEL_MANIFEST", lambda role, key, m: f"path: {json.dumps(m['path'])}, sha256: {json.dumps(m['sha256'])}, bytes: {m['bytes']}"))
    f.write("\n// The wasm cores, checked and cached like the models: the default reads tract NNEF only; the\n")
    f.write("// ONNX one (fetched only for an ONNX model) reads both; each also built with relaxed SIMD.\n")
    for const, name in CORES:
        f.write(f"export const {const} = {{ path: './{name}', sha256: {json.dumps(hashlib.sha256(cores[name]).hexdigest())}, bytes: {len(cores[name])}, "
                f"url: () => new URL('./{name}', import.meta.url) }};\n")
with open(os.path.join(pkg, "models.js"), "w") as f:
    f.write("// Generated by scripts/build-wasm.sh: the models shipped in this package, with their SHA-256.\n")
    f.write("// Each `url()` is a literal `new URL('./…', import.meta.url)`, the form bundlers (Vite, webpack,\n")
    f.write("// Rollup, esbuild) recognise and copy into an app's build. Only 'minirank' imports this file.\n")
    f.write("import { MODEL_MANIFEST } from './manifest.js';\n\n")
    f.write(table("DEFAULT_MODELS", lambda role, key, m: f"...MODEL_MANIFEST.{role}.{key}, url: () => new URL({json.dumps(m['path'])}, import.meta.url)"))
PY
# The package's runtime files with their SHA-256 and sizes, for minirank/precache (after every file is written)
node scripts/precache.mjs pkg
for f in pkg/minirank_core_bg.wasm pkg/minirank_core_onnx_bg.wasm pkg/minirank_core_relaxed_bg.wasm pkg/minirank_core_onnx_relaxed_bg.wasm; do
  echo "[build] $f: $(stat -c %s $f) bytes raw, $(gzip -9 -c $f | wc -c) bytes gzip -9" >&2
done
if [ "${1:-}" = "--pack" ]; then
  (cd pkg && npm pack --cache "$MINIRANK_CACHE/npm" --loglevel=warn)
fi
