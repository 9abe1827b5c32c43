#!/usr/bin/env python3
"""Write MODEL_CARD.md for an exported cross-encoder (the layout of minirank-ce-v0's card).

    python3 training/model_card.py OUTDIR --name minirank-ce-v1 [--sources ~/.cache/minirank/train/sources.json]
        [--recipe recipe.md] [--dev-ce OUTDIR/model.onnx] [--baseline-ce models/cross-encoder/model.onnx]

Reads:
- OUTDIR/export.json (written by training/export.py): sha256, size, quantisation, verification figures;
- the data-source table from --sources (default ~/.cache/minirank/train/sources.json, if present): a list of
  objects (or {"sources": [...], "total_pairs": n, "unique_passages": n, "notes": [...]}); every key of the
  objects becomes a column, in first-seen order (for example source, version, licence, pairs);
- the recipe from --recipe (markdown), or from "recipe" in sources.json / ~/.cache/minirank/train/recipe.md;
- the development evaluation from ~/.cache/minirank/dev-results (training/dev_eval.py), for the exported model
  (by its sha256) and, if given, a baseline cross-encoder (v0), latest run per collection.
"""
import argparse, glob, json, os, pathlib, sys

HOME = pathlib.Path(os.path.expanduser("~/.cache/minirank"))
RESULTS = HOME / "dev-results"
ROOT = pathlib.Path(__file__).resolve().parent.parent


def latest(ce_sha):
    by = {}
    for fn in sorted(glob.glob(str(RESULTS / f"*-{ce_sha[:12]}-*.json"))):
        o = json.loads(pathlib.Path(fn).read_text())
        by[o["collection"]] = o
    return by


def sources_table(path):
    if not path or not pathlib.Path(path).exists():
        return "_No sources.json was found; fill in the training data table._\n", {}
    data = json.loads(pathlib.Path(path).read_text())
    meta = {}
    rows = data
    if isinstance(data, dict):
        rows = data.get("sources", [])
        meta = {k: v for k, v in data.items() if k != "sources"}
    cols = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    fmt = lambda v: f"{v:,}" if isinstance(v, int) else ("" if v is None else str(v).replace("|", "\\|"))
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n", meta


def dev_table(new, base, new_label, base_label):
    names = sorted(set(new) | set(base))
    if not names:
        return "_No dev_eval results found._\n"
    out = []
    ref = new or base
    pick = lambda by, n, m: by.get(n, {}).get("subset", {}).get(m, {}).get("ndcg@10")
    methods = [("dense", "dense (bi-encoder int8)", None), ("bm25", "BM25 (stemmed)", None), ("rrf", "RRF hybrid", None)]
    key = lambda p: (p.rstrip("0123456789"), int(p[len(p.rstrip("0123456789")):] or 0))
    pools = sorted({m.split(":")[0] for by in (new, base) for o in by.values() for m in o["subset"] if ":" in m}, key=key)
    for p in pools:
        methods.append((f"{p}:wd1_wb1_wc0", f"{p} pool: z(dense)+z(bm25)", None))
        if base:
            methods.append((f"{p}:rerank", f"{p} pool: {base_label} alone", "base"))
            methods.append((f"{p}:wd1_wb1_wc1", f"{p} pool: z(dense)+z(bm25)+z({base_label})", "base"))
        if new:
            methods.append((f"{p}:rerank", f"{p} pool: {new_label} alone", "new"))
            methods.append((f"{p}:wd1_wb1_wc1", f"{p} pool: z(dense)+z(bm25)+z({new_label})", "new"))
    q = ", ".join(f"{n} {ref.get(n, base.get(n, {})).get('subset_queries', '?')}/{ref.get(n, base.get(n, {})).get('queries', '?')}" for n in names)
    out.append(f"nDCG@10 on the cross-encoder query subsets ({q} queries).\n")
    out.append("| method | " + " | ".join(names) + " | mean |")
    out.append("|" + " --- |" * (len(names) + 2))
    for m, label, which in methods:
        src = {"new": new, "base": base, None: new or base}[which]
        vals = [pick(src, n, m) for n in names]
        got = [v for v in vals if v is not None]
        if not got:
            continue
        mean = f"{sum(got) / len(got):.3f}" if len(got) == len(vals) else ""
        out.append(f"| {label} | " + " | ".join("" if v is None else f"{v:.3f}" for v in vals) + f" | {mean} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--name", default="minirank-ce")
    ap.add_argument("--sources", default=str(HOME / "train" / "sources.json"))
    ap.add_argument("--recipe")
    ap.add_argument("--init", default="sentence-transformers/all-MiniLM-L6-v2 body (Apache-2.0) + a new 1-logit head")
    ap.add_argument("--baseline-ce", default=str(ROOT / "models" / "cross-encoder" / "model.onnx"))
    ap.add_argument("--baseline-label", default="v0")
    a = ap.parse_args()
    out = pathlib.Path(a.outdir)
    ex = json.loads((out / "export.json").read_text())
    cfg = json.loads((out / "config.json").read_text())
    src_md, meta = sources_table(a.sources)
    recipe = ""
    for p in ([a.recipe] if a.recipe else []) + [str(HOME / "train" / "recipe.md")]:
        if p and pathlib.Path(p).exists():
            recipe = pathlib.Path(p).read_text().strip() + "\n"
            break
    if not recipe and meta.get("recipe"):
        recipe = (meta["recipe"] if isinstance(meta["recipe"], str) else "\n".join(f"{i + 1}. {s}" for i, s in enumerate(meta["recipe"]))) + "\n"
    sha = ex["model.onnx"]["sha256"]
    base_sha = None
    if a.baseline_ce and pathlib.Path(a.baseline_ce).exists():
        import hashlib
        base_sha = hashlib.sha256(pathlib.Path(a.baseline_ce).read_bytes()).hexdigest()
    new, base = latest(sha), (latest(base_sha) if base_sha and base_sha != sha else {})
    q = ex["quantised"]
    total = meta.get("total_pairs")
    uniq = meta.get("unique_passages")
    head = f"## Training data (query -> positive passage)"
    if total:
        head += f", {total:,} pairs" + (f", {uniq:,} unique passages" if uniq else "")
    notes = meta.get("notes") or []
    notes = [notes] if isinstance(notes, str) else notes
    notes_md = "".join(str(n) + "\n" for n in notes)
    card = f"""# {a.name}: MiniLM-L6 cross-encoder (passage reranker), int8 weights

- **What**: BertForSequenceClassification ({cfg.get('num_hidden_layers')} layers, hidden {cfg.get('hidden_size')}, {cfg.get('num_attention_heads')} heads, uncased WordPiece vocab {cfg.get('vocab_size'):,}, num_labels=1).
  Input: `[CLS] query [SEP] passage [SEP]`, token_type_ids 0/1, max 256 tokens (longest_first truncation, set in tokenizer.json).
  Output: `logits` [batch, 1]. Higher means more relevant. Scores are **not calibrated probabilities**.
- **Files**: `model.onnx` (opset 17; inputs input_ids / attention_mask / token_type_ids, int64, dims batch/sequence),
  `tokenizer.json` (all-MiniLM-L6-v2 tokenizer, truncation set to 256), `config.json`.
- **model.onnx sha256**: `{sha}` ({ex['model.onnx']['bytes']:,} bytes)
- **Init**: {a.init}.

## Quantization
Weight-only int8: the {q['matmul'] - 1} encoder MatMul weights, the pooler, and the word and position embeddings are stored as symmetric int8
(scale = max|w| / 127) with one fp32 scale per output channel (per row for embeddings). At load time they are dequantized by
`Cast(int8->float) * scale` (initializers `<w>_q`, `<w>_s`; nodes `<w>_f = Cast(<w>_q)`, `<w> = Mul(<w>_f, <w>_s)`, the pattern of
minirank-ce-v0). The token-type embeddings, biases, LayerNorms and the classifier stay fp32. All arithmetic runs in fp32.
The npm package ships the model converted to tract NNEF (`model.nnef.tar`, by `minirank convert`): the same graph, decluttered,
with the int8 linear layers packed; in wasm it gives the same logits as `model.onnx`.
Op types: {', '.join(ex['op_types'])} ({'the same set as v0' if ex.get('ops_match_v0') else ('a subset of v0' + chr(39) + 's' if ex.get('ops_subset_of_v0') else 'v0 has: ' + ', '.join(ex['v0_op_types']))}).

{head}
{src_md}{notes_md}
## Recipe
{recipe or '_Recipe not recorded._'}

## Development evaluation
Candidates come from the int8 all-MiniLM-L6-v2 bi-encoder (dense pool) or from reciprocal-rank fusion of it with stemmed BM25
(hybrid pool); signals are z-normalised over the pool per query and added (weights wd, wb, wc). Evaluated with
`training/dev_eval.py` (onnxruntime, numpy, own BM25), independent of minirank. These collections were used for evaluation and
weight selection only, never for training. (SciFact was v0's selection set.)

{dev_table(new, base, a.name, a.baseline_label)}
## Verification
- int8 vs fp32 on {ex['pairs']} (query, document) pairs from the development collections, batch 1, onnxruntime:
  Spearman {ex['int8_vs_fp32_spearman']:.4f}, Pearson {ex['int8_vs_fp32_pearson']:.4f}, max |diff| {ex['int8_vs_fp32_max_abs']:.2f} logits,
  mean |diff| {ex['int8_vs_fp32_mean_abs']:.3f} (fp32 logits range from {ex['fp32_logit_range'][0]:.1f} to {ex['fp32_logit_range'][1]:.1f}).
- fp32 ONNX vs torch (plain-op module): max |diff| {ex['fp32_onnx_vs_torch_max_abs']:.1e}; plain-op module vs transformers
  BertForSequenceClassification (eager attention): max |diff| {ex['hf_vs_plain_max_abs']:.1e}.
- fp32 ONNX: sha256 `{ex['model.fp32.onnx']['sha256']}` ({ex['model.fp32.onnx']['bytes']:,} bytes), not shipped.
- tract parity is checked on the Rust side (not recorded here).
"""
    (out / "MODEL_CARD.md").write_text(card)
    print(f"wrote {out / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    main()
