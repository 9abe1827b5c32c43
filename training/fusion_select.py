#!/usr/bin/env python3
"""Choose the fused score's weighting rule on the development suite, for the worst collection.

    minirank eval --collection DIR --methods dense --index DIR.idx --dump DIR.dump.jsonl
    python3 training/fusion_select.py ~/.cache/minirank/dev-results/*.dump.jsonl [--json OUT]

Reads each collection's `--dump` (every judged query's dense and BM25 top 100 with both signals,
the cross-encoder logits of the dense and hybrid top 20, and the judgements), simulates the
candidate pools and fusion rules that minirank can run, and scores each rule by nDCG@10 against
dense retrieval (the dense top 10) on every collection. Rules that rank no collection below dense
(within --tolerance) come first, then the best mean relative gain; the choice is repeated leaving
each collection out in turn (leave-one-collection-out): the rule chosen on the others is scored on
the one left out. Rule families (see weights_of): fixed, corr, overlap, length, trapezoid,
length-both. Deterministic; snowballstemmer only for dumps that lack the query's term count.
"""
import argparse, itertools, json, math, os, re, sys

try:
    import snowballstemmer  # the Snowball English stemmer, as rust-stemmers implements it
except ImportError:
    sys.exit("pip install snowballstemmer")

_SRC = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "bm25.rs")).read()
_AT = _SRC.index("STOP_WORDS")
STOP = set(re.findall(r'"([a-z]+)"', _SRC[_AT:_AT + 8000]))
_STEM = snowballstemmer.stemmer("english")


def distinct_terms(text):
    """minirank's default BM25 analyzer (src/bm25.rs): lower-cased runs of letters and digits,
    English stop words dropped, Snowball-stemmed; the number of different terms."""
    return len({_STEM.stemWord(w) for w in re.findall(r"[^\W_]+", text.lower()) if w not in STOP})


def load(path):
    name = os.path.basename(path).split(".")[0]
    queries = []
    with open(path) as f:
        for line in f:
            q = json.loads(line)
            judged = {k: v for k, v in q["judged"].items() if v > 0}
            ideal = sorted(judged.values(), reverse=True)[:10]
            q["idcg"] = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
            q["judged"] = judged
            if "terms" not in q:  # dumps of an older minirank
                q["terms"] = distinct_terms(q["text"])
            queries.append(q)
    return name, queries


def ndcg10(ids, q):
    dcg = sum(q["judged"].get(d, 0) / math.log2(i + 2) for i, d in enumerate(ids[:10]))
    return dcg / q["idcg"] if q["idcg"] > 0 else 0.0


def zs(xs):
    n = len(xs)
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / n)
    return [0.0] * n if sd < 1e-12 else [(x - m) / sd for x in xs]


def pearson(a, b):
    za, zb = zs(a), zs(b)
    return sum(x * y for x, y in zip(za, zb)) / len(a)


def pool(q, kind, n):
    c = q["candidates"]
    if kind == "dense":
        p = [x for x in c if x["dense_rank"] and x["dense_rank"] <= n]
        p.sort(key=lambda x: x["dense_rank"])
    elif kind == "hybrid":
        p = [x for x in c if x["hybrid_rank"]]
        p.sort(key=lambda x: x["hybrid_rank"])
    return p[:n]


# ---- features of a pool, computable from the candidates' two signals alone ----------------------
def features(p):
    d = [x["dense"] for x in p]
    b = [x["bm25"] for x in p]
    k = max(1, len(p) // 2)
    top_d = set(sorted(range(len(p)), key=lambda i: -d[i])[:k])
    top_b = set(sorted(range(len(p)), key=lambda i: -b[i])[:k])
    return {
        "corr": pearson(d, b),
        "overlap": len(top_d & top_b) / k,
        "bm25_zero": sum(1 for x in b if x <= 0) / len(b),
    }


def weights_of(rule, f):
    kind = rule[0]
    if kind == "fixed":
        _, wb, wc = rule[:3]
        return 1.0, wb, wc
    if kind == "corr":  # wb = scale * clip((corr - lo) / (1 - lo), 0, 1)
        _, scale, lo, wc = rule[:4]
        t = min(1.0, max(0.0, (f["corr"] - lo) / (1 - lo)))
        return 1.0, scale * t, wc
    if kind == "length":  # wb = top * clip((terms - start) / (full - start), 0, 1)
        _, start, full, top, wc = rule[:5]
        return 1.0, top * min(1.0, max(0.0, (f["terms"] - start) / max(1, full - start))), wc
    if kind == "trapezoid":  # up from `start` to `full` terms, down again from `long` to twice `long`
        _, start, full, long, top, wc = rule[:6]
        t = min(1.0, max(0.0, (f["terms"] - start) / max(1, full - start)))
        t *= min(1.0, max(0.0, 2.0 - f["terms"] / long))
        return 1.0, top * t, wc
    if kind == "length-both":  # the cross-encoder's weight follows the same ramp
        _, start, full, top, wc = rule[:5]
        t = min(1.0, max(0.0, (f["terms"] - start) / max(1, full - start)))
        return 1.0, top * t, wc * t
    if kind == "overlap":
        _, scale, lo, wc = rule[:4]
        t = min(1.0, max(0.0, (f["overlap"] - lo) / (1 - lo)))
        return 1.0, scale * t, wc
    raise ValueError(rule)


def prepared(q, kind, n):
    """The pool of `kind` with its z-scored signals and features, computed once per query."""
    key = ("_pool", kind, n)
    if key not in q:
        p = pool(q, kind, n)
        f = features(p) if p else {}
        f["terms"] = q["terms"]
        logits = [x["logit"] for x in p]
        zc = zs(logits) if p and all(l is not None for l in logits) else [0.0] * len(p)
        q[key] = (p, f, zs([x["dense"] for x in p]) if p else [], zs([x["bm25"] for x in p]) if p else [], zc)
    return q[key]


def run(q, rule, n):
    p, f, zd, zb, zc = prepared(q, rule[-1], n)
    if not p:
        return 0.0
    wd, wb, wc = weights_of(rule, f)
    s = [wd * a + wb * b + wc * c for a, b, c in zip(zd, zb, zc)]
    order = sorted(range(len(p)), key=lambda i: (-s[i], i))
    return ndcg10([p[i]["id"] for i in order], q)


def dense_ndcg(q):
    p = sorted([x for x in q["candidates"] if x["dense_rank"]], key=lambda x: x["dense_rank"])
    return ndcg10([x["id"] for x in p], q)


def rules():
    out = []
    for pk in ("hybrid", "dense"):
        for wb in (0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0):
            for wc in (0, 0.1, 0.25, 0.5):
                out.append(("fixed", wb, wc, pk))
        for start in (2, 3, 4, 5, 6, 8):
            for full in (8, 12, 16, 20, 24, 32):
                if full <= start:
                    continue
                for top in (0.4, 0.5, 0.75, 1.0, 1.5):
                    for wc in (0, 0.1, 0.25, 0.5):
                        out.append(("length", start, full, top, wc, pk))
                        if wc > 0:
                            out.append(("length-both", start, full, top, wc, pk))
                        for long in (24, 32, 48):
                            if long > full and wc in (0, 0.1):
                                out.append(("trapezoid", start, full, long, top, wc, pk))
        for kind in ("corr", "overlap"):
            for scale in (0.5, 0.75, 1.0, 1.25, 1.5):
                for lo in ((-0.2, 0.0, 0.1, 0.2, 0.3, 0.4) if kind == "corr" else (0.0, 0.2, 0.3, 0.4, 0.5)):
                    for wc in (0, 0.1, 0.25):
                        out.append((kind, scale, lo, wc, pk))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--pool", type=int, default=20)
    ap.add_argument("--json")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--family", help="only rules of this family (fixed, length, corr, overlap)")
    ap.add_argument("--ce", type=float, help="only rules with this cross-encoder weight")
    ap.add_argument("--tolerance", type=float, default=0.0, help="relative loss to dense still counted as not below it")
    a = ap.parse_args()
    cols = dict(load(p) for p in a.dumps)
    names = sorted(cols)
    dense = {c: sum(dense_ndcg(q) for q in cols[c]) / len(cols[c]) for c in names}
    table = {}
    for rule in rules():
        if (a.family and rule[0] != a.family) or (a.ce is not None and rule[-2] != a.ce):
            if rule not in (("fixed", 1.0, 0.25, "hybrid"), ("fixed", 1.0, 0.0, "hybrid")):
                continue
        table[rule] = {c: sum(run(q, rule, a.pool) for q in cols[c]) / len(cols[c]) for c in names}
    gain = lambda rule, cs: [table[rule][c] / dense[c] - 1 for c in cs]
    # none below dense first (within --tolerance), then the best mean gain
    key = lambda rule, cs: (min(gain(rule, cs)) >= -a.tolerance, sum(gain(rule, cs)) / len(cs), min(gain(rule, cs)))
    ranked = sorted(table, key=lambda r: key(r, names), reverse=True)
    print("dense: " + "  ".join(f"{c} {dense[c]:.4f}" for c in names))
    print(f"{'rule':44} worst   mean   " + " ".join(f"{c[:7]:>7}" for c in names))
    for r in ranked[: a.top] + [("fixed", 1.0, 0.25, "hybrid"), ("fixed", 1.0, 0.0, "hybrid")]:
        g = gain(r, names)
        print(f"{str(r):44} {min(g):+.3f} {sum(g)/len(g):+.3f} " + " ".join(f"{x:+7.3f}" for x in g))
    print("\nleave one collection out:")
    loco = {}
    for held in names:
        rest = [c for c in names if c != held]
        best = max(table, key=lambda r: key(r, rest))
        loco[held] = (best, table[best][held] / dense[held] - 1)
        print(f"  {held:10} chosen on the rest {str(best):44} gain on {held}: {loco[held][1]:+.3f}")
    g = [v[1] for v in loco.values()]
    print(f"  worst {min(g):+.3f} mean {sum(g)/len(g):+.3f}")
    if a.json:
        json.dump({"dense": dense, "ranked": [[list(r), table[r]] for r in ranked[:50]],
                   "loco": {k: [list(v[0]), v[1]] for k, v in loco.items()}}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
