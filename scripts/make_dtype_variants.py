#!/usr/bin/env python3
"""The dtype variants of a tiny cross-encoder, as the Hub's ONNX repositories serve them, for
tests/architectures.rs (`dtype_variants_match_onnxruntime`).

    python3 -m venv ~/.cache/minirank/venv-onnx
    ~/.cache/minirank/venv-onnx/bin/pip install onnx==1.23.2 onnxruntime==1.32.0 onnx_ir numpy
    ~/.cache/minirank/venv-onnx/bin/python scripts/make_dtype_variants.py

Reads tests/fixtures/tiny/arch/bert-ce/model.onnx (scripts/make_tiny_arch_models.py) and writes
tests/fixtures/tiny/dtypes/, named as in a Hub repository's `onnx/` folder (transformers.js's dtype
in brackets), with the tools those files are made with:

- model_fp16.onnx       [fp16]  onnxruntime.transformers.float16.convert_float_to_float16, keep_io_types
- model_fp16_io.onnx            the same with float16 outputs (keep_io_types=False)
- model_quantized.onnx  [q8]    onnxruntime.quantization.quantize_dynamic, QUInt8
- model_int8.onnx       [int8]  quantize_dynamic, QInt8
- model_uint8.onnx      [uint8] quantize_dynamic, QUInt8, per channel
- model_q4.onnx         [q4]    onnxruntime.quantization.matmul_nbits_quantizer (4-bit MatMulNBits,
                                block 16), which minirank refuses at load: not in "files" below
- reference.json        per file, onnxruntime's logits (CPU, one thread) for the pairs of
                        tests/fixtures/tiny/arch/reference.json's "bert" entry (its token ids), and
                        the file's SHA-256
"""
import hashlib, json, pathlib

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
from onnxruntime.transformers import float16

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "tests" / "fixtures" / "tiny" / "arch" / "bert-ce" / "model.onnx"
OUT = ROOT / "tests" / "fixtures" / "tiny" / "dtypes"


def session(path):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(SRC))
    onnx.save(float16.convert_float_to_float16(model, keep_io_types=True), str(OUT / "model_fp16.onnx"))
    onnx.save(float16.convert_float_to_float16(onnx.load(str(SRC)), keep_io_types=False), str(OUT / "model_fp16_io.onnx"))
    quantize_dynamic(str(SRC), str(OUT / "model_quantized.onnx"), weight_type=QuantType.QUInt8)
    quantize_dynamic(str(SRC), str(OUT / "model_int8.onnx"), weight_type=QuantType.QInt8)
    quantize_dynamic(str(SRC), str(OUT / "model_uint8.onnx"), weight_type=QuantType.QUInt8, per_channel=True)
    q4 = MatMulNBitsQuantizer(onnx.load(str(SRC)), block_size=16, is_symmetric=True)
    q4.process()
    onnx.save(q4.model.model, str(OUT / "model_q4.onnx"))

    ref = json.loads((SRC.parent.parent / "reference.json").read_text())["bert"]
    out = {"source": "tiny/arch/bert-ce/model.onnx", "onnxruntime": ort.__version__, "onnx": onnx.__version__,
           "fp32_logits": ref["logits"], "files": {}}
    for path in sorted(p for p in OUT.glob("*.onnx") if p.name != "model_q4.onnx"):
        sess = session(path)
        logits = []
        for ids, type_ids in zip(ref["pair_ids"], ref["pair_type_ids"]):
            a = lambda x: np.array([x], dtype=np.int64)
            feeds = {"input_ids": a(ids), "attention_mask": a([1] * len(ids)), "token_type_ids": a(type_ids)}
            logits.append(round(float(np.asarray(sess.run(None, feeds)[0], dtype=np.float32)[0][0]), 6))
        out["files"][path.name] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "logits": logits}
        worst = max(abs(a - b) for a, b in zip(logits, ref["logits"]))
        print(f"{path.name}: {path.stat().st_size} bytes, largest |logit - fp32| {worst:.4f}")
    out["unsupported"] = {"model_q4.onnx": hashlib.sha256((OUT / "model_q4.onnx").read_bytes()).hexdigest()}
    (OUT / "reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
