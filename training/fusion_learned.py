#!/usr/bin/env python3
"""Learned per-query fusion weights, measured against the rules of fusion_select.py.

    python3 training/fusion_learned.py ~/.cache/minirank/dev-results/*.dump.jsonl [--json OUT]

Reads the same dumps as fusion_select.py. For every judged query it scores a grid of fixed weight
sets (BM25 weight x cross-encoder weight x hybrid or dense pool of 20, the dense weight 1) and
describes the query by features computable from its pool alone: the query's BM25 term count, the
dense/BM25 correlation and top-half overlap over the pool, the share of candidates without a BM25
match, how peaked each signal is (top-1 value, top-1 gap, top-1 z-score) and how the cross-encoder's
logits agree with the other two. A linear softmax policy over the weight sets (features x sets, a
few hundred numbers) is trained to maximise the expected relative gain over dense retrieval, each
collection weighing the same; `--penalty` adds weight to the collections a policy ranks below dense
during training. Every setting is scored leaving one collection out: trained on the others, the
policy's chosen weight set (argmax) is scored on the one left out. Also prints two bounds: the best
fixed weight set chosen per collection with its labels, and the best set per query.
Needs numpy and fusion_select.py beside it; deterministic.
"""
import argparse, json, math, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fusion_select as fs  # noqa: E402

WB = [0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
WC = [0, 0.25, 0.5, 1.0]
SETS = [(wb, wc, pk) for pk in ("hybrid", "dense") for wb in WB for wc in WC]
SUBSETS = {
    "every set": lambda wb, wc, pk: True,
    "hybrid pool": lambda wb, wc, pk: pk == "hybrid",
    "hybrid pool, ce <= 0.25": lambda wb, wc, pk: pk == "hybrid" and wc <= 0.25,
    "dense pool": lambda wb, wc, pk: pk == "dense",
}


def features(q):
    p, f, _, _, _ = fs.prepared(q, "hybrid", 20)
    d = np.array([x["dense"] for x in p])
    b = np.array([x["bm25"] for x in p])
    c = np.array([x["logit"] if x["logit"] is not None else 0.0 for x in p])
    ds, bs, cs = np.sort(d)[::-1], np.sort(b)[::-1], np.sort(c)[::-1]
    corr = lambda u, v: float(np.corrcoef(u, v)[0, 1]) if u.std() > 0 and v.std() > 0 else 0.0
    t = q["terms"]
    return [math.log1p(t), min(t, 64) / 16, f["corr"], f["overlap"], f["bm25_zero"],
            ds[0], ds[0] - ds[1], (ds[0] - d.mean()) / (d.std() + 1e-9),
            (bs[0] - b.mean()) / (b.std() + 1e-9), (bs[0] - bs[1]) / (bs[0] + 1e-9), math.log1p(bs[0]),
            cs[0] / 10, (cs[0] - c.mean()) / (c.std() + 1e-9), c.std() / 5, corr(d, c), corr(b, c)]


def train(X, Y, C, dense, idx, allowed, penalty, steps=600, lr=0.5, l2=1e-2):
    W = np.zeros((X.shape[1], Y.shape[1]))
    Xi, Yi, Ci = X[idx], Y[idx], C[idx]
    cols = np.unique(Ci)
    for _ in range(steps):
        L = Xi @ W
        L[:, ~allowed] = -1e9
        P = np.exp(L - L.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        ey = (P * Yi).sum(1)
        g = np.zeros_like(P)
        for i in cols:
            m = Ci == i
            below = ey[m].mean() / dense[i] - 1 < 0.005
            w = (1.0 + (penalty if below else 0.0)) / (m.sum() * dense[i] * len(cols))
            g[m] = P[m] * (Yi[m] - ey[m][:, None]) * w
        W += lr * (Xi.T @ g) - lr * l2 * W
    return W


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--json")
    a = ap.parse_args()
    cols = dict(fs.load(p) for p in a.dumps)
    names = sorted(cols)
    X, Y, C, D = [], [], [], []
    for ci, name in enumerate(names):
        for q in cols[name]:
            X.append(features(q))
            Y.append([fs.run(q, ("fixed", wb, wc, pk), 20) for wb, wc, pk in SETS])
            C.append(ci)
            D.append(fs.dense_ndcg(q))
    X, Y, C, D = np.array(X), np.array(Y), np.array(C), np.array(D)
    X = np.hstack([np.ones((len(X), 1)), (X - X.mean(0)) / (X.std(0) + 1e-9)])
    dense = np.array([D[C == i].mean() for i in range(len(names))])
    gain = lambda i, nd: nd / dense[i] - 1
    out = {"collections": names, "queries": len(X), "sets": len(SETS), "bounds": {}, "loco": {}}

    per_col = [max(gain(i, Y[C == i, k].mean()) for k in range(len(SETS))) for i in range(len(names))]
    per_query = [gain(i, Y[C == i].max(1).mean()) for i in range(len(names))]
    for label, g in (("best fixed set per collection (labels)", per_col), ("best set per query (labels)", per_query)):
        out["bounds"][label] = dict(zip(names, g))
        print(f"{label:44} mean {np.mean(g):+.3f} worst {min(g):+.3f}")
    idx = np.arange(len(X))
    for sub, keep in SUBSETS.items():
        allowed = np.array([keep(*s) for s in SETS])
        for penalty in (0.0, 5.0, 20.0):
            loco = []
            for i in range(len(names)):
                W = train(X, Y, C, dense, idx[C != i], allowed, penalty)
                L = X[C == i] @ W
                L[:, ~allowed] = -1e9
                loco.append(gain(i, Y[C == i][np.arange((C == i).sum()), L.argmax(1)].mean()))
            label = f"{sub}, penalty {penalty:g}"
            out["loco"][label] = dict(zip(names, loco))
            print(f"{label:44} LOCO mean {np.mean(loco):+.3f} worst {min(loco):+.3f}  "
                  + " ".join(f"{n[:7]} {g:+.3f}" for n, g in zip(names, loco)), flush=True)
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
