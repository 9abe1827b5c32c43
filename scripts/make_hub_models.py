#!/usr/bin/env python3
"""The shipped models as a Hugging Face Hub repository serves them, in each dtype, for
tests/node/hub-models.test.mjs: a local Hub with real weights.

    scripts/setup.sh hub        # the venv (onnx, onnxruntime, tokenizers, numpy) and this script

Writes under $MINIRANK_HUB_DIR (default ~/.cache/minirank/hub), laid out as `{id}/resolve/main/...`:

- local/minirank-ce/ and local/all-MiniLM-L6-v2/ (the shipped cross-encoder and bi-encoder):
  onnx/model.onnx            fp32: the shipped weight-only int8 file with each `Mul(Cast(int8), scale)`
                             folded into its f32 product (the same numbers the int8 file computes with)
  onnx/model_fp16.onnx       onnxruntime.transformers.float16.convert_float_to_float16, keep_io_types
  onnx/model_quantized.onnx  onnxruntime.quantization.quantize_dynamic, QUInt8 (transformers.js's q8)
  onnx/model_int8.onnx       quantize_dynamic, QInt8 (int8)
  tokenizer.json, config.json
- reference.json: per model and dtype, onnxruntime's outputs (CPU, one thread, one input per run)
  for the seed corpus (tests/fixtures/seed000*.json*): the cross-encoder's logits for every
  (question, document) pair, the bi-encoder's mean-pooled unit embeddings of the documents; and the
  sha256 of the source files, so that a rerun with the same sources does nothing.

These are the tools the Hub's ONNX exports are made with (Xenova's conversion script runs the
same quantize_dynamic and float16 converter on an fp32 export); the fp32 file here comes from the
shipped int8 weights instead of a PyTorch export, so no PyTorch is needed.
"""
import hashlib, json, os, pathlib, shutil

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers import float16
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(os.environ.get("MINIRANK_HUB_DIR", pathlib.Path.home() / ".cache" / "minirank" / "hub"))
MODELS = {"cross-encoder": "local/minirank-ce", "bi-encoder": "local/all-MiniLM-L6-v2"}
DTYPES = {"fp32": "model.onnx", "fp16": "model_fp16.onnx", "q8": "model_quantized.onnx", "int8": "model_int8.onnx"}


def sha(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def fold_dequantization(model):
    """`Mul(Cast(q), s)` with `q` an int8 initializer and `s` an f32 initializer becomes one f32
    initializer of the product; the int8 and scale initializers go once nothing reads them."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    casts = {n.output[0]: n for n in g.node if n.op_type == "Cast" and n.input[0] in inits
             and inits[n.input[0]].data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)}
    dead, new = set(), []
    for k, n in enumerate(g.node):
        if n.op_type != "Mul":
            continue
        a, b = n.input
        cast, scale = (a, b) if a in casts else (b, a) if b in casts else (None, None)
        if cast is None or scale not in inits:
            continue
        q = numpy_helper.to_array(inits[casts[cast].input[0]]).astype(np.float32)
        s = numpy_helper.to_array(inits[scale]).astype(np.float32)
        new.append(numpy_helper.from_array((q * s).astype(np.float32), n.output[0]))
        dead.add(k)
    nodes = [n for k, n in enumerate(g.node) if k not in dead]
    used = {i for n in nodes for i in n.input} | {o.name for o in g.output}
    nodes = [n for n in nodes if not (n.op_type == "Cast" and n.output[0] not in used)]
    used = {i for n in nodes for i in n.input} | {o.name for o in g.output}
    nodes = [onnx.NodeProto.FromString(n.SerializeToString()) for n in nodes]  # copies: the list is cleared next
    del g.node[:]
    g.node.extend(nodes)
    kept = [onnx.TensorProto.FromString(t.SerializeToString()) for t in g.initializer if t.name in used] + new
    del g.initializer[:]
    g.initializer.extend(kept)
    assert not any(t.data_type == onnx.TensorProto.INT8 for t in g.initializer), "an int8 weight was left"
    return model


def session(path):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def run(sess, enc):
    names = {i.name for i in sess.get_inputs()}
    a = lambda x: np.array([x], dtype=np.int64)
    feeds = {"input_ids": a(enc.ids), "attention_mask": a(enc.attention_mask)}
    if "token_type_ids" in names:
        feeds["token_type_ids"] = a(enc.type_ids)
    return np.asarray(sess.run(None, feeds)[0], dtype=np.float32)


def main():
    docs = [json.loads(l) for l in (ROOT / "tests/fixtures/seed000.jsonl").read_text().splitlines() if l.strip()]
    questions = json.loads((ROOT / "tests/fixtures/seed000_questions.json").read_text())["questions"]
    sources = {role: sha(ROOT / "models" / role / "model.onnx") for role in MODELS}
    stamp = OUT / "reference.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("sources") == sources and json.loads(stamp.read_text()).get("dtypes") == DTYPES:
        print(f"[hub] {OUT}: up to date")
        return
    ref = {"sources": sources, "dtypes": DTYPES, "onnxruntime": ort.__version__, "onnx": onnx.__version__, "models": {}}
    for role, repo in MODELS.items():
        src = ROOT / "models" / role
        out = OUT / repo / "resolve" / "main"
        (out / "onnx").mkdir(parents=True, exist_ok=True)
        for f in ("tokenizer.json", "config.json"):
            shutil.copyfile(src / f, out / f)
        fp32 = out / "onnx" / DTYPES["fp32"]
        onnx.save(fold_dequantization(onnx.load(str(src / "model.onnx"))), str(fp32))
        onnx.save(float16.convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True), str(out / "onnx" / DTYPES["fp16"]))
        quantize_dynamic(str(fp32), str(out / "onnx" / DTYPES["q8"]), weight_type=QuantType.QUInt8)
        quantize_dynamic(str(fp32), str(out / "onnx" / DTYPES["int8"]), weight_type=QuantType.QInt8)
        tok = Tokenizer.from_file(str(src / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(max_length=256)  # the models' default max_length (minirank's too)
        entry = {"id": repo, "dtypes": {}}
        for dtype, file in DTYPES.items():
            sess = session(out / "onnx" / file)
            if role == "cross-encoder":
                outputs = [[round(float(run(sess, tok.encode(q, d["text"]))[0][0]), 6) for d in docs] for q in questions]
            else:
                outputs = []
                for d in docs:
                    e = tok.encode(d["text"])
                    h = run(sess, e)[0]
                    v = h.mean(0)
                    outputs.append([round(float(x), 7) for x in v / np.linalg.norm(v)])
            entry["dtypes"][dtype] = {"file": file, "bytes": (out / "onnx" / file).stat().st_size,
                                      "sha256": sha(out / "onnx" / file), "outputs": outputs}
            print(f"[hub] {repo} {dtype}: {(out / 'onnx' / file).stat().st_size} bytes")
        ref["models"][role] = entry
    ref["questions"], ref["documents"] = questions, [d["id"] for d in docs]
    stamp.write_text(json.dumps(ref) + "\n")


if __name__ == "__main__":
    main()
