#!/usr/bin/env python3
"""Export a BertForSequenceClassification cross-encoder to the ONNX layout minirank ships (like minirank-ce-v0).

    python3 training/export.py CHECKPOINT OUTDIR [--config config.json] [--pairs-from DIR ...]
    python3 training/export.py --roundtrip-v0 OUTDIR         # test: v0 int8 -> torch -> ONNX -> int8 == v0?

CHECKPOINT is a Hugging Face checkpoint directory (config.json + model.safetensors / pytorch_model.bin), or a
state_dict file (.safetensors / .pt / .bin, HF key names, optionally without the "bert." prefix; a torch.save dict
with a "model" or "state_dict" entry also works, e.g. train.py's ckpt/eval-step-N.safetensors) with --config
(default: models/cross-encoder/config.json, v0's architecture).

Steps:
1. Load the fp32 weights into transformers' BertForSequenceClassification (eager attention) and into a
   plain-op module (PlainBert: MatMul with pre-transposed weights, explicit softmax attention with an additive
   (1 - mask) * float32.min bias, erf GELU, LayerNormalization) and check they agree (<= 1e-4).
2. torch.onnx.export (TorchScript exporter, opset 17): inputs input_ids / attention_mask / token_type_ids
   (int64, dims batch / sequence), output `logits` [batch, 1]. Constant nodes are turned into initializers and
   the op types are compared with v0's graph.
3. Weight-only int8, exactly v0's pattern: for each of the 36 encoder MatMul weights and the pooler
   ([in, out] initializers), int8 `<w>_q` with one fp32 scale per output column `<w>_s` [1, out]; for the word
   and position embeddings one scale per row [rows, 1]. Symmetric, scale = max|w| / 127, q = round(w / scale).
   Dequantised in-graph by Cast(int8 -> float) `<w>_f` then Mul(`<w>_f`, `<w>_s`) -> `<w>` (the Rust loader
   folds this pattern). Token-type embeddings, biases, LayerNorms and the classifier stay fp32.
4. Checks with onnxruntime (1 thread): fp32 ONNX vs torch (max |diff| <= 1e-4) and int8 vs fp32
   (Spearman >= 0.995) on >= 300 (query, document) pairs from the development collections; sha256 and size.
Writes OUTDIR/model.onnx (int8), tokenizer.json (v0's: all-MiniLM-L6-v2 vocabulary, truncation 256),
config.json, export.json (figures for model_card.py) and, with --keep-fp32, model.fp32.onnx.
"""
import argparse, hashlib, json, math, os, pathlib, random, shutil, sys, tempfile, time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import common  # noqa: E402
V0 = ROOT / "models" / "cross-encoder"
DEV_DEFAULT = [str(ROOT.parent / "shared" / "data" / "cacm"), str(ROOT.parent / "shared" / "data" / "scifact"),
               os.path.expanduser("~/.cache/minirank/data/cisi"), os.path.expanduser("~/.cache/minirank/data/lisa")]


sha256 = common.sha256


# ----------------------------------------------------------------------------------------------- torch side
def load_state_dict(ckpt, config_path=None):
    """Returns (transformers BertConfig, HF-keyed fp32 state dict)."""
    import torch
    from transformers import BertConfig
    p = pathlib.Path(ckpt)
    if p.is_dir():
        config_path = config_path or p / "config.json"
        for name in ("model.safetensors", "pytorch_model.bin"):
            if (p / name).exists():
                p = p / name
                break
        else:
            sys.exit(f"no model.safetensors / pytorch_model.bin in {ckpt}")
    if config_path is None:  # a bare state_dict (e.g. train.py's ckpt/eval-step-N.safetensors): v0's architecture
        config_path = V0 / "config.json"
        print(f"no --config: using {config_path}", file=sys.stderr)
    cfg = BertConfig.from_json_file(str(config_path))
    if str(p).endswith(".safetensors"):
        from safetensors.torch import load_file
        sd = load_file(str(p))
    else:
        sd = torch.load(str(p), map_location="cpu", weights_only=True)
        if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
            sd = sd["state_dict"]
        if isinstance(sd, dict) and "model" in sd and isinstance(sd["model"], dict):
            sd = sd["model"]
    out = {}
    for k, v in sd.items():
        k = k[len("module."):] if k.startswith("module.") else k
        if not (k.startswith("bert.") or k.startswith("classifier.")):
            k = "bert." + k
        out[k] = v.float() if v.is_floating_point() else v
    return cfg, out


def hf_model(cfg, sd):
    from transformers import BertForSequenceClassification
    cfg._attn_implementation = "eager"
    m = BertForSequenceClassification(cfg)
    missing, unexpected = m.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    unexpected = [k for k in unexpected if not k.endswith("position_ids")]
    if missing or unexpected:
        sys.exit(f"state dict mismatch: missing {missing[:5]} unexpected {unexpected[:5]}")
    return m.eval()


def plain_bert(cfg, sd):
    import torch

    class PlainBert(torch.nn.Module):
        """BERT + pooler + 1-logit head with plain ops only (no SDPA, no fused attention)."""

        def __init__(self):
            super().__init__()
            g = lambda k: sd[k].detach().clone().float()
            P = lambda t: torch.nn.Parameter(t, requires_grad=False)
            self.H, self.D = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
            self.eps, self.hidden = cfg.layer_norm_eps, cfg.hidden_size
            e = "bert.embeddings."
            self.word, self.pos, self.tt = P(g(e + "word_embeddings.weight")), P(g(e + "position_embeddings.weight")), \
                P(g(e + "token_type_embeddings.weight"))
            self.ln_w, self.ln_b = P(g(e + "LayerNorm.weight")), P(g(e + "LayerNorm.bias"))
            self.layers = torch.nn.ModuleList()
            for i in range(cfg.num_hidden_layers):
                L, pre = torch.nn.Module(), f"bert.encoder.layer.{i}."
                for short, key in (("q", "attention.self.query"), ("k", "attention.self.key"),
                                   ("v", "attention.self.value"), ("o", "attention.output.dense"),
                                   ("i", "intermediate.dense"), ("out", "output.dense")):
                    setattr(L, short + "_w", P(g(pre + key + ".weight").t().contiguous()))  # [in, out]
                    setattr(L, short + "_b", P(g(pre + key + ".bias")))
                L.ln1_w, L.ln1_b = P(g(pre + "attention.output.LayerNorm.weight")), P(g(pre + "attention.output.LayerNorm.bias"))
                L.ln2_w, L.ln2_b = P(g(pre + "output.LayerNorm.weight")), P(g(pre + "output.LayerNorm.bias"))
                self.layers.append(L)
            self.pool_w, self.pool_b = P(g("bert.pooler.dense.weight").t().contiguous()), P(g("bert.pooler.dense.bias"))
            self.cls_w, self.cls_b = P(g("classifier.weight").t().contiguous()), P(g("classifier.bias"))

        def forward(self, input_ids, attention_mask, token_type_ids):
            F = torch.nn.functional
            B, S = input_ids.shape[0], input_ids.shape[1]
            pos = torch.arange(S, device=input_ids.device).unsqueeze(0)
            x = self.word[input_ids] + self.pos[pos] + self.tt[token_type_ids]
            x = F.layer_norm(x, (self.hidden,), self.ln_w, self.ln_b, self.eps)
            bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
            scale = math.sqrt(self.D)
            for L in self.layers:
                q = (x @ L.q_w + L.q_b).view(B, S, self.H, self.D).transpose(1, 2)
                k = (x @ L.k_w + L.k_b).view(B, S, self.H, self.D).permute(0, 2, 3, 1)
                v = (x @ L.v_w + L.v_b).view(B, S, self.H, self.D).transpose(1, 2)
                a = torch.softmax(q @ k / scale + bias, dim=-1)
                ctx = (a @ v).transpose(1, 2).reshape(B, S, self.H * self.D)
                x = F.layer_norm(ctx @ L.o_w + L.o_b + x, (self.hidden,), L.ln1_w, L.ln1_b, self.eps)
                h = x @ L.i_w + L.i_b
                h = h * (0.5 * (1.0 + torch.erf(h / math.sqrt(2.0))))
                x = F.layer_norm(h @ L.out_w + L.out_b + x, (self.hidden,), L.ln2_w, L.ln2_b, self.eps)
            pooled = torch.tanh(x[:, 0] @ self.pool_w + self.pool_b)
            return pooled @ self.cls_w + self.cls_b

    return PlainBert().eval()


# ----------------------------------------------------------------------------------------------- ONNX side
def export_onnx(model, path, opset=17):
    import torch, onnx
    from onnx import numpy_helper
    ids = torch.tensor([[101, 2054, 2003, 102, 1037, 3231, 6251, 102]], dtype=torch.long).repeat(2, 1)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    tt = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1]], dtype=torch.long).repeat(2, 1)
    dyn = {n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "token_type_ids")}
    dyn["logits"] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, tt), str(path), dynamo=False, opset_version=opset,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                          dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(str(path))
    g = m.graph
    # Constant nodes -> initializers (v0 has none).
    keep = []
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            t = numpy_helper.to_array(n.attribute[0].t)
            g.initializer.append(numpy_helper.from_array(t, n.output[0]))
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    # Give the MatMul / Gather weights stable names.
    inits = {i.name: i for i in g.initializer}
    rename, k = {}, 0
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits and n.input[1] not in rename:
            rename[n.input[1]] = f"matmul_w_{k}"; k += 1
    for i in g.initializer:
        if i.name in rename:
            i.name = rename[i.name]
    for n in g.node:
        for j, x in enumerate(n.input):
            if x in rename:
                n.input[j] = rename[x]
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return m


def quantize_weight_only(src, dst, fp32_matmuls=()):
    """v0's weight-only int8: Cast(int8 -> float) * scale for encoder/pooler MatMul weights and word/position
    embeddings. Returns a dict of what was quantised."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    m = onnx.load(str(src))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    mat = []  # [in, out] weights of MatMul nodes, in graph order
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits and n.input[1] not in mat:
            mat.append(n.input[1])
    shapes = {k: tuple(inits[k].dims) for k in mat}
    # The classifier ([hidden, 1]) stays fp32; every other MatMul weight (36 encoder + pooler) is quantised.
    per_col = [k for i, k in enumerate(mat) if shapes[k][1] > 1 and i not in set(fp32_matmuls)]
    gath = []
    for n in g.node:
        if n.op_type == "Gather" and n.input[0] in inits:
            dims = tuple(inits[n.input[0]].dims)
            if len(dims) == 2 and dims[0] > 2 and n.input[0] not in gath:  # word and position, not token type
                gath.append(n.input[0])
    new_nodes, report = [], {"matmul": len(per_col), "embeddings": len(gath), "fp32_matmul": [k for k in mat if k not in per_col]}
    for name in gath + per_col:
        w = numpy_helper.to_array(inits[name]).astype(np.float32)
        axis = 1 if name in gath else 0  # per row (embeddings) / per output column (MatMul [in, out])
        amax = np.abs(w).max(axis=axis, keepdims=True)
        s = (np.where(amax > 0, amax, 1.0) / 127.0).astype(np.float32)
        q = np.clip(np.round(w / s), -127, 127).astype(np.int8)
        g.initializer.remove(inits[name])
        g.initializer.append(numpy_helper.from_array(q, name + "_q"))
        g.initializer.append(numpy_helper.from_array(s, name + "_s"))
        new_nodes.append(helper.make_node("Cast", [name + "_q"], [name + "_f"], to=TensorProto.FLOAT))
        new_nodes.append(helper.make_node("Mul", [name + "_f", name + "_s"], [name]))
    nodes = new_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return report


def dequantize_v0(path):
    """v0 model.onnx -> (HF-keyed fp32 state dict). Weight MatMuls in graph order are, per layer, query, key,
    value, attention output, intermediate, output; then the pooler and the classifier."""
    import onnx, torch
    from onnx import numpy_helper
    m = onnx.load(str(path))
    g = m.graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    val = dict(init)
    for n in g.node:  # fold Cast/Mul dequantisation
        if n.op_type == "Cast" and n.input[0] in val:
            val[n.output[0]] = val[n.input[0]].astype(np.float32)
        elif n.op_type == "Mul" and all(x in val for x in n.input):
            val[n.output[0]] = val[n.input[0]] * val[n.input[1]]
    consumers = {}
    for n in g.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    wm = [n for n in g.node if n.op_type == "MatMul" and n.input[1] in val]

    def bias_of(n):
        add = [c for c in consumers[n.output[0]] if c.op_type == "Add"][0]
        return val[[x for x in add.input if x in val][0]]
    lns = [n for n in g.node if n.op_type == "LayerNormalization"]
    gathers = [n for n in g.node if n.op_type == "Gather" and n.input[0] in val and val[n.input[0]].ndim == 2]
    nl = (len(wm) - 2) // 6
    sd = {}
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    emb = sorted(gathers, key=lambda n: -val[n.input[0]].shape[0])  # word (30522), position (512), token type (2)
    for n, key in zip(emb, ("word_embeddings", "position_embeddings", "token_type_embeddings")):
        sd[f"bert.embeddings.{key}.weight"] = t(val[n.input[0]])
    sd["bert.embeddings.LayerNorm.weight"], sd["bert.embeddings.LayerNorm.bias"] = t(val[lns[0].input[1]]), t(val[lns[0].input[2]])
    names = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
             "intermediate.dense", "output.dense")
    for i in range(nl):
        for j, key in enumerate(names):
            n = wm[6 * i + j]
            sd[f"bert.encoder.layer.{i}.{key}.weight"] = t(val[n.input[1]].T)
            sd[f"bert.encoder.layer.{i}.{key}.bias"] = t(bias_of(n))
        for j, key in ((1, "attention.output.LayerNorm"), (2, "output.LayerNorm")):
            ln = lns[2 * i + j]
            sd[f"bert.encoder.layer.{i}.{key}.weight"], sd[f"bert.encoder.layer.{i}.{key}.bias"] = t(val[ln.input[1]]), t(val[ln.input[2]])
    sd["bert.pooler.dense.weight"], sd["bert.pooler.dense.bias"] = t(val[wm[-2].input[1]].T), t(bias_of(wm[-2]))
    sd["classifier.weight"], sd["classifier.bias"] = t(val[wm[-1].input[1]].T), t(bias_of(wm[-1]))
    return sd


# ----------------------------------------------------------------------------------------------- checks
def dev_pairs(dirs, n=300, seed=0):
    """n (query, document) pairs: per sampled query one judged-relevant document and one at random."""
    rng = random.Random(seed)
    per = []
    for d in dirs:
        d = pathlib.Path(d)
        if not (d / "corpus.jsonl").exists():
            continue
        corpus = {}
        for line in (d / "corpus.jsonl").read_text().splitlines():
            o = json.loads(line)
            t = " ".join(x for x in (str(o.get("title") or "").strip(), str(o.get("text") or "").strip()) if x)
            if t:
                corpus[str(o["_id"])] = t
        qs = {}
        for line in (d / "queries.jsonl").read_text().splitlines():
            o = json.loads(line)
            qs[str(o["_id"])] = o["text"]
        rel = {}
        for line in (d / "qrels" / "test.tsv").read_text().splitlines()[1:]:
            c = line.split("\t")
            if len(c) >= 3 and c[1] in corpus and float(c[2]) > 0:
                rel.setdefault(c[0], []).append(c[1])
        ids = sorted(corpus)
        pairs = []
        for q in sorted(q for q in rel if q in qs):
            pairs.append((qs[q], corpus[rng.choice(rel[q])]))
            pairs.append((qs[q], corpus[rng.choice(ids)]))
        rng.shuffle(pairs)
        per.append(pairs)
    out, k = [], 0
    while len(out) < n and any(per):
        for p in per:
            if k < len(p) and len(out) < n:
                out.append(p[k])
        k += 1
    return out


def encode_pairs(tok_path, pairs):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    tok.no_padding()
    tok.enable_truncation(256, strategy="longest_first")
    return [tok.encode(q, d) for q, d in pairs]


def ort_logits(path, encs):
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1; o.inter_op_num_threads = 1
    s = ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])
    out = []
    for e in encs:  # batch 1, no padding, as the product scores
        ids = np.array([e.ids], np.int64)
        out.append(s.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                "token_type_ids": np.array([e.type_ids], np.int64)})[0][0, 0])
    return np.array(out, np.float64)


def torch_logits(model, encs, batch=16):
    import torch
    out = []
    with torch.no_grad():
        for s in range(0, len(encs), batch):
            ch = encs[s:s + batch]
            L = max(len(e.ids) for e in ch)
            ids = torch.zeros(len(ch), L, dtype=torch.long); m = torch.zeros_like(ids); tt = torch.zeros_like(ids)
            for i, e in enumerate(ch):
                n = len(e.ids); ids[i, :n] = torch.tensor(e.ids); m[i, :n] = 1; tt[i, :n] = torch.tensor(e.type_ids)
            r = model(input_ids=ids, attention_mask=m, token_type_ids=tt)
            r = r.logits if hasattr(r, "logits") else r
            out.append(r[:, 0].double().numpy())
    return np.concatenate(out)


def spearman(a, b):
    ra = np.argsort(np.argsort(a)).astype(float); rb = np.argsort(np.argsort(b)).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def op_types(path):
    import onnx
    return sorted({n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node})


# ----------------------------------------------------------------------------------------------- main
def run(ckpt, outdir, config=None, pair_dirs=None, npairs=300, keep_fp32=False, sd_cfg=None, extra=None, fp32_matmuls=()):
    import torch
    torch.set_num_threads(1)
    t0 = time.time()
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cfg, sd = sd_cfg if sd_cfg else load_state_dict(ckpt, config)
    hf, plain = hf_model(cfg, sd), plain_bert(cfg, sd)
    tok_path = V0 / "tokenizer.json"
    pairs = dev_pairs(pair_dirs or DEV_DEFAULT, npairs)
    encs = encode_pairs(tok_path, pairs)
    print(f"{len(pairs)} check pairs; token lengths {min(len(e.ids) for e in encs)}-{max(len(e.ids) for e in encs)}", flush=True)
    l_hf = torch_logits(hf, encs[:64])
    l_plain_64 = torch_logits(plain, encs[:64])
    hf_vs_plain = float(np.abs(l_hf - l_plain_64).max())
    print(f"transformers (eager) vs plain-op module, 64 pairs: max |diff| {hf_vs_plain:.2e}", flush=True)
    fp32 = outdir / "model.fp32.onnx"
    export_onnx(plain, fp32)
    rep = quantize_weight_only(fp32, outdir / "model.onnx", fp32_matmuls)
    print(f"quantised {rep['matmul']} MatMul weights (per output column) and {rep['embeddings']} embeddings (per row); "
          f"fp32 MatMul kept: {rep['fp32_matmul']}", flush=True)
    l_torch = torch_logits(plain, encs)
    l_fp32 = ort_logits(fp32, encs)
    l_int8 = ort_logits(outdir / "model.onnx", encs)
    onnx_vs_torch = float(np.abs(l_fp32 - l_torch).max())
    res = {
        "pairs": len(pairs), "pair_sources": [str(d) for d in (pair_dirs or DEV_DEFAULT)],
        "hf_vs_plain_max_abs": hf_vs_plain,
        "fp32_onnx_vs_torch_max_abs": onnx_vs_torch,
        "int8_vs_fp32_spearman": spearman(l_int8, l_fp32),
        "int8_vs_fp32_pearson": float(np.corrcoef(l_int8, l_fp32)[0, 1]),
        "int8_vs_fp32_max_abs": float(np.abs(l_int8 - l_fp32).max()),
        "int8_vs_fp32_mean_abs": float(np.abs(l_int8 - l_fp32).mean()),
        "fp32_logit_range": [float(l_fp32.min()), float(l_fp32.max())],
        "op_types": op_types(outdir / "model.onnx"),
        "v0_op_types": op_types(V0 / "model.onnx"),
        "quantised": rep,
        "model.onnx": {"sha256": sha256(outdir / "model.onnx"), "bytes": (outdir / "model.onnx").stat().st_size},
        "model.fp32.onnx": {"sha256": sha256(fp32), "bytes": fp32.stat().st_size},
    }
    res["ops_match_v0"] = res["op_types"] == res["v0_op_types"]
    res["ops_subset_of_v0"] = set(res["op_types"]) <= set(res["v0_op_types"])
    res["ok"] = bool(onnx_vs_torch <= 1e-4 and res["int8_vs_fp32_spearman"] >= 0.995 and hf_vs_plain <= 1e-4
                     and res["ops_subset_of_v0"] and len(pairs) >= 300)
    shutil.copyfile(tok_path, outdir / "tokenizer.json")
    cfg_d = cfg.to_dict()
    cfg_d.pop("_attn_implementation", None); cfg_d.pop("_attn_implementation_internal", None)
    cfg_d["architectures"] = ["BertForSequenceClassification"]
    (outdir / "config.json").write_text(json.dumps(cfg_d, indent=2, sort_keys=True) + "\n")
    if extra:
        extra(res, encs, l_int8, l_fp32)
    if not keep_fp32:
        fp32.unlink()
    res["seconds"] = round(time.time() - t0, 1)
    (outdir / "export.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k not in ("v0_op_types",)}, indent=2))
    if not res["ok"]:
        print("CHECKS FAILED", file=sys.stderr)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", nargs="?")
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--config")
    ap.add_argument("--pairs-from", nargs="*", help="BEIR-layout collections for the check pairs")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--keep-fp32", action="store_true", help="keep model.fp32.onnx beside the int8 model")
    ap.add_argument("--fp32-matmuls", default="", help="comma-separated MatMul weight indices to leave in fp32 (a departure "
                    "from v0's scheme; index = 6*layer + (0 query, 1 key, 2 value, 3 attention output, 4 intermediate, "
                    "5 output), 36 pooler, 37 classifier)")
    ap.add_argument("--roundtrip-v0", metavar="OUTDIR", help="dequantise models/cross-encoder/model.onnx, export it "
                    "again and compare with it")
    a = ap.parse_args()
    if a.roundtrip_v0:
        import onnx
        from onnx import numpy_helper
        from transformers import BertConfig
        sd = dequantize_v0(V0 / "model.onnx")
        cfg = BertConfig.from_json_file(str(V0 / "config.json"))

        def compare(res, encs, l_int8, l_fp32):
            l_v0 = ort_logits(V0 / "model.onnx", encs)
            res["roundtrip_int8_vs_v0_max_abs"] = float(np.abs(l_int8 - l_v0).max())
            res["roundtrip_fp32_vs_v0_max_abs"] = float(np.abs(l_fp32 - l_v0).max())
            mine = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(pathlib.Path(a.roundtrip_v0) / "model.onnx")).graph.initializer if i.data_type == onnx.TensorProto.INT8}
            v0q = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(V0 / "model.onnx")).graph.initializer if i.data_type == onnx.TensorProto.INT8}
            a_ = sorted((x.shape, x.tobytes()) for x in mine.values())
            b_ = sorted((x.shape, x.tobytes()) for x in v0q.values())
            res["roundtrip_int8_tensors"] = {"mine": len(mine), "v0": len(v0q), "identical": sum(1 for x, y in zip(a_, b_) if x == y)}
            res["roundtrip_ok"] = res["roundtrip_int8_vs_v0_max_abs"] <= 1e-3
        run(None, a.roundtrip_v0, pair_dirs=a.pairs_from, npairs=a.pairs, keep_fp32=a.keep_fp32, sd_cfg=(cfg, sd),
            extra=compare)
        return
    if not (a.checkpoint and a.outdir):
        ap.error("CHECKPOINT and OUTDIR are required (or --roundtrip-v0 OUTDIR)")
    run(a.checkpoint, a.outdir, a.config, a.pairs_from, a.pairs, a.keep_fp32,
        fp32_matmuls=[int(x) for x in a.fp32_matmuls.split(",") if x.strip()])


if __name__ == "__main__":
    main()
