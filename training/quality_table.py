#!/usr/bin/env python3
"""The per-kind quality table of docs/quality.md, from `minirank eval --json` outputs.

    for c in ...; do minirank eval --collection DATA/$c --compare-fusion dense=1,bm25=1,cross-encoder=0.25 \
        --index $c.idx --json > $c.json; done
    python3 training/quality_table.py *.json

One row per collection (grouped by the `kind` its collection.json gives): nDCG@10 of dense, BM25,
hybrid (RRF), the fixed equal-weight fusion that was the default before, and the default; each
fusion's difference to dense with its paired bootstrap 95% interval. Stdlib only.
"""
import json, sys

FIXED = "fusion(dense=1,bm25=1,cross-encoder=0.25)"


def cell(d):
    return f"{100 * d['relative']:+.1f}% [{d['low']:+.3f}, {d['high']:+.3f}]"


def main(paths):
    runs = [json.load(open(p)) for p in paths]
    runs.sort(key=lambda r: (r.get("kind") or "", r["collection"]))
    print("| kind | collection | queries | dense | BM25 | hybrid (RRF) | fixed 1·cos + 1·BM25 + 0.25·CE | vs dense | **default** | vs dense (95% CI) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    gains, old = [], []
    for r in runs:
        m, v = r["methods"], r["versus_dense"]
        n = lambda k: f"{m[k]['ndcg@10']:.4f}" if k in m else "-"
        print(f"| {r.get('kind') or '-'} | {r['collection']} | {r['queries']} | {n('dense')} | {n('bm25')} | {n('hybrid')} | "
              f"{n(FIXED)} | {cell(v[FIXED]) if FIXED in v else '-'} | **{n('default')}** | {cell(v['default'])} |")
        gains.append(v["default"]["relative"])
        if FIXED in v:
            old.append(v[FIXED]["relative"])
    print(f"\nmean gain over dense: default {100 * sum(gains) / len(gains):+.1f}% (worst {100 * min(gains):+.1f}%)", end="")
    if old:
        print(f"; fixed weights {100 * sum(old) / len(old):+.1f}% (worst {100 * min(old):+.1f}%)")
    else:
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
