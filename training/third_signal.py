#!/usr/bin/env python3
"""Upper bound of an all-mpnet-base-v2 teacher as the third signal of the shipped fusion.

    $PY training/third_signal.py [--budget-min 90] [--fusion-only] [NAME ...]   # default: all 7, smallest first

Per development collection, on dev_eval.py's default query subset (DEFAULT_LIMITS, seed 0) and its hybrid pool of
20 (RRF of the int8 MiniLM bi-encoder and stemmed BM25), nDCG@10 of: dense (full ranking), fusion
z(dense)+z(bm25) (= dev_eval's hybrid20:wd1_wb1_wc0, checked against its latest result file), fusion + w*z(mpnet)
for w in W, mpnet alone over the pool, and fusion + 0.25*z(v0 cross-encoder) where dev_eval's logit cache has
every pair. mpnet: all-mpnet-base-v2 fp32 weights (bf16 autocast, one thread, common.sentence_encoder), 256 tokens,
mean pooling + L2, cosine. Embeddings of the subset queries and unique pool documents are cached resumably in
chunks under ~/.cache/minirank/dev-cache/<name>/mpnet-<key>-*.npy. A collection whose estimated embedding time
would pass --budget-min (rate measured on the collections before it) is skipped and reported.
Writes ~/.cache/minirank/dev-results/third-signal-<time>.json and prints a table; logs to
~/.cache/minirank/logs/third-signal.log.
"""
import argparse, hashlib, json, os, pathlib, sys, time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import common  # noqa: E402

common.set_single_thread()
import numpy as np  # noqa: E402
import dev_eval as de  # noqa: E402

MODEL_DIR = os.path.join(common.TRAIN_DIR, "mpnet", "all-mpnet-base-v2")
LOG = de.HOME / "logs" / "third-signal.log"
ORDER = ("med", "cisi", "cran", "cacm", "npl", "scifact", "lisa")
PATHS = {n: pathlib.Path(common.SHARED_DATA if n in ("cacm", "scifact") else de.HOME / "data") / n for n in ORDER}
W = (0.25, 0.5, 1.0)
MAX_TOKENS, CHUNK, N = 256, 200, 20


def log(m):
    LOG.parent.mkdir(parents=True, exist_ok=True)
    common.log(m, str(LOG))


def pools(coll, bi):
    """dev_eval.evaluate's subset and hybrid-20 pools: [(qid, qtext, rel, P, sd[P], sb[P])], plus the corpus."""
    name = coll.name
    corpus, queries, qrels = de.load(coll)
    D = bi.corpus_embeddings(name, corpus)
    Q = bi.embed([q for _, q in queries])
    bm = de.BM25([de.analyze(t) for _, t in corpus])
    out = []
    for qi in de.query_subset(len(queries), de.DEFAULT_LIMITS.get(name)):
        qid, qtext = queries[qi]
        sd, sb = Q[qi] @ D.T, bm.scores(de.analyze(qtext))
        dense_r = de.top(sd, de.RRF_DEPTH)
        P = np.array(de.rrf(list(dense_r), list(de.top(sb, de.RRF_DEPTH)))[:N])
        out.append(dict(qid=qid, q=qtext, rel=qrels[qid], P=P, sd=sd[P], sb=sb[P], dense=dense_r[:10]))
    return corpus, out


class MpnetCache:
    """Embeddings of a fixed, length-sorted list of texts, written in atomic chunks (resumable)."""

    def __init__(self, name, keys, texts):
        self.keys, self.texts = keys, texts
        h = hashlib.sha256(f"{MODEL_DIR}\n{MAX_TOKENS}\n".encode() + "\n".join(":".join(k) for k in keys).encode())
        self.stem = de.CACHE / name / f"mpnet-{h.hexdigest()[:12]}"
        self.stem.parent.mkdir(parents=True, exist_ok=True)

    def chunk_path(self, c):
        return pathlib.Path(f"{self.stem}-part{c:04d}.npy")

    def embed(self, encode_fn, name):
        final = pathlib.Path(f"{self.stem}.npy")
        if final.exists():
            return np.load(final), 0, 0.0
        parts, n_new, t_new = [], 0, 0.0
        for c in range((len(self.keys) + CHUNK - 1) // CHUNK):
            p = self.chunk_path(c)
            if not p.exists():
                t = time.time()
                e = encode_fn()(self.texts[c * CHUNK:(c + 1) * CHUNK])
                np.save(str(p) + ".tmp.npy", e)
                os.replace(str(p) + ".tmp.npy", p)
                n_new += len(e); t_new += time.time() - t
                log(f"[{name}] mpnet {min((c + 1) * CHUNK, len(self.keys))}/{len(self.keys)} texts "
                    f"({len(e) / (time.time() - t):.1f}/s)")
            parts.append(p)
        E = np.concatenate([np.load(p) for p in parts])
        np.save(final, E)
        for p in parts:
            p.unlink()
        return E, n_new, t_new


def ranked_ndcg(P, s, rel, ids):
    return de.ndcg10([ids[j] for j in P[np.argsort(-s, kind="stable")][:10]], rel)


def boot(x, n=2000, seed=0):
    x = np.asarray(x)
    m = x[np.random.default_rng(seed).integers(0, len(x), (n, len(x)))].mean(1)
    return [round(float(np.percentile(m, 2.5)), 4), round(float(np.percentile(m, 97.5)), 4)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", default=list(ORDER))
    ap.add_argument("--budget-min", type=float, default=90.0)
    ap.add_argument("--fusion-only", action="store_true", help="only check the fusion figure against dev_eval")
    a = ap.parse_args()
    t_start = time.time()
    bi = de.BiEncoder(de.ROOT / "models" / "bi-encoder")
    v0_sha = de.sha256(de.ROOT / "models" / "cross-encoder" / "model.onnx")
    tok = None
    enc = [None]

    def encode_fn():
        if enc[0] is None:
            enc[0] = common.sentence_encoder(MODEL_DIR, MAX_TOKENS, batch_size=16)
        return enc[0]
    rate = None  # tokens per second of mpnet embedding, measured
    res = {"model": MODEL_DIR, "max_tokens": MAX_TOKENS, "pool": f"hybrid{N}", "weights": list(W),
           "v0_sha256": v0_sha, "collections": {}, "skipped": {}}
    log(f"third_signal.py start {vars(a)}")
    for name in a.names:
        t0 = time.time()
        corpus, qs = pools(PATHS[name], bi)
        ids, text = [i for i, _ in corpus], dict(corpus)
        fus = [ranked_ndcg(q["P"], de.z(q["sd"]) + de.z(q["sb"]), q["rel"], ids) for q in qs]
        dense = [de.ndcg10([ids[j] for j in q["dense"]], q["rel"]) for q in qs]
        ref = de.latest_results(v0_sha).get(name)
        ref_f = ref["subset"]["hybrid20:wd1_wb1_wc0"]["ndcg@10"] if ref else None
        ok = ref is not None and ref["subset_qids"] == [q["qid"] for q in qs] and abs(ref_f - np.mean(fus)) < 1e-6
        log(f"[{name}] {len(qs)} queries: dense {np.mean(dense):.4f}, fusion {np.mean(fus):.4f} "
            f"(dev_eval hybrid20:wd1_wb1_wc0 {ref_f}) -> {'match' if ok else 'MISMATCH'}")
        if not ok:
            sys.exit(f"[{name}] fusion does not match dev_eval; stop")
        if a.fusion_only:
            continue
        keys = sorted({("q", q["qid"]) for q in qs} | {("d", ids[j]) for q in qs for j in q["P"]})
        tx = {k: (dict((q["qid"], q["q"]) for q in qs)[k[1]] if k[0] == "q" else text[k[1]]) for k in keys}
        keys.sort(key=lambda k: (len(tx[k]), k))  # length-sorted chunks pad less
        texts = [tx[k] for k in keys]
        cache = MpnetCache(name, keys, texts)
        if tok is None:
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(MODEL_DIR)
        ntok = sum(min(len(x), MAX_TOKENS) for x in tok(texts, add_special_tokens=True)["input_ids"])
        done = sum(len(np.load(cache.chunk_path(c), mmap_mode="r")) for c in range((len(keys) + CHUNK - 1) // CHUNK)
                   if cache.chunk_path(c).exists())
        left_min = a.budget_min - (time.time() - t_start) / 60
        est = ntok * (1 - done / len(keys)) / rate / 60 if rate and not pathlib.Path(f"{cache.stem}.npy").exists() else 0
        log(f"[{name}] {len(keys)} texts to embed ({done} cached), {ntok} tokens; estimate "
            f"{est:.1f} min, {left_min:.1f} min of budget left")
        if est > left_min:
            res["skipped"][name] = f"estimated {est:.0f} min > {left_min:.0f} min left"
            log(f"[{name}] skipped: {res['skipped'][name]}")
            continue
        E, n_new, t_new = cache.embed(encode_fn, name)
        if n_new:
            r = ntok * n_new / len(keys) / t_new
            rate = r if rate is None else 0.5 * (rate + r)
        row = {k: i for i, k in enumerate(keys)}
        cc = de.CECache(name, v0_sha)
        m = {"dense": dense, "fusion": fus, "mpnet": []}
        for w in W:
            m[f"fusion+{w:g}mpnet"] = []
        m["fusion+0.25v0"] = [] if all((q["qid"], ids[j]) in cc.s for q in qs for j in q["P"]) else None
        for q in qs:
            P, rel = q["P"], q["rel"]
            mp = E[[row[("d", ids[j])] for j in P]] @ E[row[("q", q["qid"])]]
            f = de.z(q["sd"]) + de.z(q["sb"])
            m["mpnet"].append(ranked_ndcg(P, mp, rel, ids))
            for w in W:
                m[f"fusion+{w:g}mpnet"].append(ranked_ndcg(P, f + w * de.z(mp), rel, ids))
            if m["fusion+0.25v0"] is not None:
                c = np.array([cc.s[(q["qid"], ids[j])] for j in P])
                m["fusion+0.25v0"].append(ranked_ndcg(P, f + 0.25 * de.z(c), rel, ids))
        mean = {k: float(np.mean(v)) for k, v in m.items() if v is not None}
        bw = max(W, key=lambda w: mean[f"fusion+{w:g}mpnet"])
        gain = [x - y for x, y in zip(m[f"fusion+{bw:g}mpnet"], fus)]
        res["collections"][name] = {
            "queries": len(qs), "texts": len(keys), "tokens": ntok, "new_texts": n_new,
            "embed_seconds": round(t_new, 1), "seconds": round(time.time() - t0, 1), "ndcg@10": mean,
            "best_w": bw, "best_gain": float(np.mean(gain)), "best_gain_ci95": boot(gain),
            "per_query_ndcg@10": {k: [round(x, 5) for x in v] for k, v in m.items() if v is not None}}
        log(f"[{name}] " + ", ".join(f"{k} {v:.4f}" for k, v in mean.items())
            + f"; best w {bw:g} gain {np.mean(gain):+.4f} {boot(gain)} ({time.time() - t0:.0f}s)")
    if a.fusion_only:
        return
    cols = list(res["collections"])
    heads = ["dense", "fusion"] + [f"fusion+{w:g}mpnet" for w in W] + ["mpnet", "fusion+0.25v0"]
    print("| collection | queries | " + " | ".join(heads) + " | best w gain |")
    print("|" + " --- |" * (len(heads) + 3))
    for n in cols:
        c = res["collections"][n]
        print(f"| {n} | {c['queries']} | " + " | ".join(f"{c['ndcg@10'][h]:.3f}" if h in c["ndcg@10"] else "n/a"
                                                    for h in heads) + f" | {c['best_gain']:+.3f} (w {c['best_w']:g}) |")
    res["gain_ge_0.01"] = sum(res["collections"][n]["best_gain"] >= 0.01 for n in cols)
    res["seconds"] = round(time.time() - t_start, 1)
    print(f"\nbest w gains >= 0.01 on {res['gain_ge_0.01']} of {len(cols)} collections; skipped: {res['skipped'] or 'none'}")
    de.RESULTS.mkdir(parents=True, exist_ok=True)
    fn = de.RESULTS / f"third-signal-{time.strftime('%Y%m%d-%H%M%S')}.json"
    fn.write_text(json.dumps(res) + "\n")
    log(f"wrote {fn} ({res['seconds']:.0f}s)")


if __name__ == "__main__":
    main()
