#!/usr/bin/env python3
"""Independent dense-retrieval evaluation with onnxruntime, to cross-check `minirank eval`.

    python3 scripts/reference_eval.py ../shared/data/cacm [--rerank 100]

Same model files as minirank (models/bi-encoder, models/cross-encoder), but nothing of minirank's
code: Python `tokenizers` encodes (256 tokens), onnxruntime runs the graphs, numpy pools, ranks and
scores (nDCG@10 with linear gains, as trec_eval). Prints JSON with the same metric names as
`minirank eval --json`. Needs onnxruntime, tokenizers, numpy.
"""
import argparse, json, math, pathlib, sys, time
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent


# the BEIR loader is shared with training/dev_eval.py
sys.path.insert(0, str(ROOT / "training"))
from common import load_beir as load  # noqa: E402


def session(path):
    o = ort.SessionOptions()
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def run_batches(sess, tok, inputs, batch=32, pair=False):
    names = {i.name for i in sess.get_inputs()}
    outs = []
    for s in range(0, len(inputs), batch):
        chunk = inputs[s:s + batch]
        encs = tok.encode_batch(chunk)
        L = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), L), np.int64); mask = np.zeros_like(ids); tt = np.zeros_like(ids)
        for i, e in enumerate(encs):
            n = len(e.ids); ids[i, :n] = e.ids; mask[i, :n] = 1; tt[i, :n] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feed["token_type_ids"] = tt
        out = sess.run(None, feed)[0]
        outs.append((out, mask))
    return outs


def embed(sess, tok, texts):
    vecs = []
    for out, mask in run_batches(sess, tok, texts):
        m = mask[:, :, None].astype(np.float32)
        v = (out * m).sum(1) / m.sum(1)
        vecs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    return np.concatenate(vecs)


def metrics(ranking, rel):
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    first = next((i for i, d in enumerate(ranking[:10]) if rel.get(d, 0) > 0), None)
    nrel = sum(1 for g in rel.values() if g > 0)
    return {"ndcg@10": dcg / idcg if idcg else 0.0,
            "mrr@10": 0.0 if first is None else 1.0 / (first + 1),
            "recall@100": sum(1 for d in ranking[:100] if rel.get(d, 0) > 0) / nrel,
            "p@5": sum(1 for d in ranking[:5] if rel.get(d, 0) > 0) / 5}


def mean(ms):
    return {k: sum(m[k] for m in ms) / len(ms) for k in ms[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("collection")
    ap.add_argument("--rerank", type=int, default=0, help="also rerank the top N with the cross-encoder")
    a = ap.parse_args()
    corpus, queries, qrels = load(a.collection)
    bdir = ROOT / "models" / "bi-encoder"
    tok = Tokenizer.from_file(str(bdir / "tokenizer.json")); tok.no_padding(); tok.enable_truncation(256)
    sess = session(bdir / "model.onnx")
    t = time.time()
    D = embed(sess, tok, [t for _, t in corpus])
    Q = embed(sess, tok, [q for _, q in queries])
    ids = [i for i, _ in corpus]
    S = Q @ D.T
    dense, rer = [], []
    if a.rerank:
        cdir = ROOT / "models" / "cross-encoder"
        ctok = Tokenizer.from_file(str(cdir / "tokenizer.json")); ctok.no_padding()
        ctok.enable_truncation(256, strategy="only_second")
        csess = session(cdir / "model.onnx")
    for qi, (qid, qtext) in enumerate(queries):
        order = np.argsort(-S[qi], kind="stable")[:100]
        ranking = [ids[j] for j in order]
        dense.append(metrics(ranking, qrels[qid]))
        if a.rerank:
            cand = ranking[:a.rerank]
            text = dict(corpus)
            logits = np.concatenate([o[:, 0] for o, _ in run_batches(csess, ctok, [(qtext, text[c]) for c in cand])])
            rer.append(metrics([cand[j] for j in np.argsort(-logits, kind="stable")], qrels[qid]))
    out = {"collection": pathlib.Path(a.collection).name, "documents": len(corpus), "queries": len(queries),
           "methods": {"dense": mean(dense)}, "seconds": time.time() - t}
    if rer:
        out["methods"]["rerank"] = mean(rer)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
