#!/usr/bin/env python3
"""Independent evaluation of fused stage-2 scoring on development collections (BEIR layout).

    python3 training/dev_eval.py ../shared/data/cacm ~/.cache/minirank/data/cisi ... [--ce PATH] [--limit-queries N]
    python3 training/dev_eval.py --summary [--ce PATH]      # table over the latest run of every collection

Shares no code with minirank: Python `tokenizers` encodes, onnxruntime runs the graphs (one thread), numpy
does BM25 (own inverted index, rank_bm25's BM25Okapi formula), pooling, fusion and metrics.

Per collection:
- dense: the int8 all-MiniLM-L6-v2 bi-encoder (models/bi-encoder), 256 tokens, mean pooling, L2; document
  embeddings cached (resumable) as .npy under ~/.cache/minirank/dev-cache/<name>/.
- BM25 (k1 1.5, b 0.75, whole corpus): "bm25" = lower-case, \\w+, scikit-learn's 318 English stop words
  dropped, Snowball English stemmer; "bm25_plain" = lower-case \\w+ only.
- rrf / rrf_plain: reciprocal-rank fusion of dense and BM25 (k 60, equal weights, depth 1000).
- pools: dense top-N and hybrid (rrf with stemmed BM25) top-N, N in {20, 50, 100}.
- cross-encoder (--ce, default models/cross-encoder/model.onnx) logits for every (query, pool candidate),
  max 256 tokens (the document is truncated), cached per (model sha, collection) and resumable.
- methods, each scored by nDCG@10 (linear gains, trec_eval) and recall@100:
  bm25, bm25_plain, dense, rrf, rrf_plain; per pool and N: `rerank` (cross-encoder alone) and
  `wd,wb,wc` = wd*z(dense) + wb*z(bm25) + wc*z(ce), z over the pool per query ((x-mean)/(std+1e-9)).
  The pool is reordered; the rest of the pool's source ranking follows it (only matters for recall@100).
- The cross-encoder scores the top --ce-depth (default 50) of each pool, so pools of N > depth get wc=0 only.
- With a query limit (default 100 for SciFact, 80 for Cranfield; CPU budget) every method is scored on the same fixed random
  subset (seed 0); the methods that need no cross-encoder are also scored on all queries ("all_queries").
Writes ~/.cache/minirank/dev-results/<collection>-<ce sha12>-<time>.json and prints a table.
"""
import argparse, collections, glob, hashlib, json, math, os, pathlib, re, sys, time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import common  # noqa: E402
HOME = pathlib.Path(os.path.expanduser("~/.cache/minirank"))
CACHE, RESULTS = HOME / "dev-cache", HOME / "dev-results"
POOLS, NS = ("dense", "hybrid"), (20, 50, 100)
WD, WB, WC = (0.5, 1.0), (0.0, 0.5, 1.0, 1.5, 2.0), (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
DEFAULT_LIMITS = {"scifact": 100, "cran": 80}
CE_DEPTH = 50  # cross-encoder scores the top CE_DEPTH of each pool (CPU budget); deeper pools get wc=0 only
RRF_K, RRF_DEPTH = 60, 1000

STOP_WORDS = common.ENGLISH_STOP_WORDS


# ----------------------------------------------------------------------------------------------- data
load = common.load_beir
sha256 = common.sha256


# ----------------------------------------------------------------------------------------------- BM25
_stemmer = None


def analyze(text, stem=True):
    global _stemmer
    toks = re.findall(r"\w+", text.lower())
    if not stem:
        return toks
    if _stemmer is None:
        import snowballstemmer
        _stemmer = snowballstemmer.stemmer("english")
    return _stemmer.stemWords([t for t in toks if t not in STOP_WORDS])


class BM25:
    """rank_bm25.BM25Okapi (k1, b, epsilon 0.25 floor for negative idf) over an inverted index."""

    def __init__(self, docs_tokens, k1=1.5, b=0.75, epsilon=0.25):
        self.vocab, post_d, post_tf = {}, [], []
        dl = np.array([len(t) for t in docs_tokens], np.float64)
        for j, toks in enumerate(docs_tokens):
            for t, c in collections.Counter(toks).items():
                k = self.vocab.setdefault(t, len(self.vocab))
                if k == len(post_d):
                    post_d.append([]); post_tf.append([])
                post_d[k].append(j); post_tf[k].append(c)
        self.n = len(docs_tokens)
        avgdl = dl.sum() / self.n
        df = np.array([len(p) for p in post_d], np.float64)
        idf = np.log(self.n - df + 0.5) - np.log(df + 0.5)
        idf[idf < 0] = epsilon * (idf.sum() / len(idf))
        self.idf = idf
        self.docs = [np.array(p, np.int32) for p in post_d]
        self.w = []
        for p, tf in zip(self.docs, post_tf):
            tf = np.array(tf, np.float64)
            self.w.append(tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl[p] / avgdl)))

    def scores(self, query_tokens):
        s = np.zeros(self.n)
        for t in query_tokens:  # repeated query terms count again, as in rank_bm25
            k = self.vocab.get(t)
            if k is not None:
                s[self.docs[k]] += self.idf[k] * self.w[k]
        return s


# ----------------------------------------------------------------------------------------------- models
def session(path):
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def feed_for(sess, encs):
    L = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), L), np.int64); mask = np.zeros_like(ids); tt = np.zeros_like(ids)
    for i, e in enumerate(encs):
        n = len(e.ids); ids[i, :n] = e.ids; mask[i, :n] = 1; tt[i, :n] = e.type_ids
    names = {i.name for i in sess.get_inputs()}
    feed = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in names:
        feed["token_type_ids"] = tt
    return feed, mask


class BiEncoder:
    def __init__(self, mdir):
        from tokenizers import Tokenizer
        self.path = pathlib.Path(mdir) / "model.onnx"
        self.tok = Tokenizer.from_file(str(pathlib.Path(mdir) / "tokenizer.json"))
        self.tok.no_padding(); self.tok.enable_truncation(256)
        self.sess = session(self.path)
        self.sha = sha256(self.path)

    def embed(self, texts, batch=32):
        encs = self.tok.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        out = np.zeros((len(texts), 384), np.float32)
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            feed, mask = feed_for(self.sess, [encs[i] for i in idx])
            h = self.sess.run(None, feed)[0]
            m = mask[:, :, None].astype(np.float32)
            v = (h * m).sum(1) / m.sum(1)
            out[idx] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out

    def corpus_embeddings(self, name, corpus, chunk=512):
        d = CACHE / name
        d.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256((self.sha + "\n" + "\n".join(i for i, _ in corpus)).encode()).hexdigest()[:12]
        final = d / f"docs-{key}.npy"
        if final.exists():
            return np.load(final)
        parts, t0 = [], time.time()
        for s in range(0, len(corpus), chunk):
            p = d / f"docs-{key}.part{s // chunk:05d}.npy"
            if not p.exists():
                np.save(p, self.embed([t for _, t in corpus[s:s + chunk]]))
                print(f"  [{name}] embedded {min(s + chunk, len(corpus))}/{len(corpus)} docs "
                      f"({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
            parts.append(p)
        D = np.concatenate([np.load(p) for p in parts])
        np.save(final, D)
        for p in parts:
            p.unlink()
        return D


class CrossEncoder:
    def __init__(self, model_path):
        from tokenizers import Tokenizer
        self.path = pathlib.Path(model_path)
        tj = self.path.parent / "tokenizer.json"
        if not tj.exists():
            tj = ROOT / "models" / "cross-encoder" / "tokenizer.json"
        self.tok = Tokenizer.from_file(str(tj))
        self.tok.no_padding()
        self.sess = session(self.path)
        self.sha = sha256(self.path)

    def encode(self, q, d):
        try:
            self.tok.enable_truncation(256, strategy="only_second")
            return self.tok.encode(q, d)
        except Exception:  # query alone longer than the limit
            self.tok.enable_truncation(256, strategy="longest_first")
            return self.tok.encode(q, d)

    def score(self, pairs, batch=16):
        encs = [self.encode(q, d) for q, d in pairs]
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        out = np.zeros(len(pairs), np.float32)
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            feed, _ = feed_for(self.sess, [encs[i] for i in idx])
            out[idx] = self.sess.run(None, feed)[0][:, 0]
        return out


class CECache:
    """jsonl of {"q": qid, "d": [doc ids], "s": [logits]} per (model sha, collection); appended per query."""

    def __init__(self, name, sha):
        self.path = CACHE / name / f"ce-{sha[:12]}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.s = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    o = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by an interrupted run
                for d, v in zip(o["d"], o["s"]):
                    self.s[(o["q"], d)] = v

    def add(self, qid, docs, scores):
        with open(self.path, "a") as f:
            f.write(json.dumps({"q": qid, "d": list(docs), "s": [round(float(x), 5) for x in scores]}) + "\n")
        for d, v in zip(docs, scores):
            self.s[(qid, d)] = float(v)


# ----------------------------------------------------------------------------------------------- metrics
def ndcg10(ranking, rel):
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall100(ranking, rel):
    n = sum(1 for g in rel.values() if g > 0)
    return sum(1 for d in ranking[:100] if rel.get(d, 0) > 0) / n if n else 0.0


def z(x):
    x = np.asarray(x, np.float64)
    return (x - x.mean()) / (x.std() + 1e-9)


def top(scores, k):
    k = min(k, len(scores))
    idx = np.argpartition(-scores, k - 1)[:k]
    return idx[np.argsort(-scores[idx], kind="stable")]


def rrf(a, b, k=RRF_K):
    s = collections.defaultdict(float)
    for lst in (a, b):
        for r, d in enumerate(lst):
            s[d] += 1.0 / (k + r + 1)
    return sorted(s, key=lambda d: -s[d])  # stable: ties keep first-list order


def fused_name(wd, wb, wc):
    return f"wd{wd:g}_wb{wb:g}_wc{wc:g}"


# ----------------------------------------------------------------------------------------------- run
def query_subset(n, limit, seed=0):
    """Indices of the fixed random subset of `limit` of `n` queries (all of them without a limit), in order."""
    if not limit or limit >= n:
        return list(range(n))
    keep = set(np.random.default_rng(seed).choice(n, limit, replace=False).tolist())
    return [i for i in range(n) if i in keep]


def evaluate(coll, bi, ce, limit, seed=0, ce_depth=CE_DEPTH):
    name = pathlib.Path(coll).name
    t0 = time.time()
    corpus, queries, qrels = load(coll)
    ids = [i for i, _ in corpus]
    print(f"[{name}] {len(corpus)} docs, {len(queries)} judged queries", file=sys.stderr, flush=True)
    D = bi.corpus_embeddings(name, corpus)
    Q = bi.embed([q for _, q in queries])
    tstem = [analyze(t) for _, t in corpus]
    bm = BM25(tstem)
    bmp = BM25([analyze(t, stem=False) for _, t in corpus])
    text = dict(corpus)
    print(f"[{name}] embeddings + BM25 ready ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)

    subset = query_subset(len(queries), limit, seed)
    cache = CECache(name, ce.sha) if ce else None

    per = {"all_queries": collections.defaultdict(list), "subset": collections.defaultdict(list)}
    rec = {"all_queries": collections.defaultdict(list), "subset": collections.defaultdict(list)}
    tce, npairs = 0.0, 0
    sub = set(subset)
    for qi, (qid, qtext) in enumerate(queries):
        rel = qrels[qid]
        sd = Q[qi] @ D.T
        sb = bm.scores(analyze(qtext))
        sbp = bmp.scores(analyze(qtext, stem=False))
        dense_r = top(sd, RRF_DEPTH)
        bm_r = top(sb, RRF_DEPTH)
        bmp_r = top(sbp, RRF_DEPTH)
        hyb = rrf(list(dense_r), list(bm_r))
        rankings = {"bm25": bm_r, "bm25_plain": bmp_r, "dense": dense_r, "rrf": hyb,
                    "rrf_plain": rrf(list(dense_r), list(bmp_r))}
        sources = {"dense": list(dense_r[:100]), "hybrid": list(hyb[:100])}
        ce_s = None
        if ce and qi in sub:
            cand = sorted(set(sources["dense"][:ce_depth]) | set(sources["hybrid"][:ce_depth]))
            need = [j for j in cand if (qid, ids[j]) not in cache.s]
            if need:
                t1 = time.time()
                sc = ce.score([(qtext, text[ids[j]]) for j in need])
                tce += time.time() - t1; npairs += len(need)
                cache.add(qid, [ids[j] for j in need], sc)
            ce_s = {j: cache.s[(qid, ids[j])] for j in cand}
        for pool, src in sources.items():
            for N in NS:
                P = np.array(src[:N])
                tail = list(src[N:])
                zd, zb = z(sd[P]), z(sb[P])
                variants = {}
                for wd in WD:
                    for wb in WB:
                        variants[fused_name(wd, wb, 0.0)] = wd * zd + wb * zb
                if ce_s is not None and N <= ce_depth:
                    c = np.array([ce_s[j] for j in P])
                    zc = z(c)
                    variants["rerank"] = c
                    for wd in WD:
                        for wb in WB:
                            for wc in WC[1:]:
                                variants[fused_name(wd, wb, wc)] = wd * zd + wb * zb + wc * zc
                for k, s in variants.items():
                    rankings[f"{pool}{N}:{k}"] = list(P[np.argsort(-s, kind="stable")]) + tail
        for k, r in rankings.items():
            docs = [ids[j] for j in r[:100]]
            nd, rc = ndcg10(docs, rel), recall100(docs, rel)
            if ":" not in k or k.endswith("wc0"):
                per["all_queries"][k].append(nd); rec["all_queries"][k].append(rc)
            if qi in sub:
                per["subset"][k].append(nd); rec["subset"][k].append(rc)
        if ce and qi in sub and (len([x for x in subset if x <= qi]) % 10 == 0):
            print(f"[{name}] query {qi + 1}/{len(queries)}: {npairs} new pairs, "
                  f"{npairs / max(tce, 1e-9):.1f} pairs/s", file=sys.stderr, flush=True)
    out = {"collection": name, "path": str(coll), "documents": len(corpus), "queries": len(queries),
           "subset_queries": len(subset), "subset_qids": [queries[i][0] for i in subset],
           "limit": limit, "seed": seed, "ce_depth": ce_depth,
           "bi_encoder_sha256": bi.sha, "ce": str(ce.path) if ce else None, "ce_sha256": ce.sha if ce else None,
           "ce_new_pairs": npairs, "ce_seconds": round(tce, 1), "seconds": round(time.time() - t0, 1),
           "all_queries": {k: {"ndcg@10": float(np.mean(v)), "recall@100": float(np.mean(rec["all_queries"][k]))}
                           for k, v in per["all_queries"].items()},
           "subset": {k: {"ndcg@10": float(np.mean(v)), "recall@100": float(np.mean(rec["subset"][k]))}
                      for k, v in per["subset"].items()},
           "per_query_ndcg@10": {k: [round(x, 5) for x in v] for k, v in per["subset"].items()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    fn = RESULTS / f"{name}-{(ce.sha[:12] if ce else 'noce')}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    fn.write_text(json.dumps(out) + "\n")
    print(f"[{name}] wrote {fn} ({out['seconds']}s; {npairs} new CE pairs in {tce:.0f}s)", file=sys.stderr, flush=True)
    return out


def print_collection(out):
    a, s = out["all_queries"], out["subset"]
    print(f"\n## {out['collection']}: {out['documents']} docs, {out['queries']} queries "
          f"(cross-encoder on {out['subset_queries']})")
    print(f"{'method':34s} {'nDCG@10':>8s} {'R@100':>7s}   subset nDCG@10")
    base = ["bm25_plain", "bm25", "dense", "rrf_plain", "rrf"]
    for k in base + [f"{p}{n}:wd1_wb1_wc0" for p in POOLS for n in NS]:
        print(f"{k:34s} {a[k]['ndcg@10']:8.4f} {a[k]['recall@100']:7.4f}   {s[k]['ndcg@10']:.4f}")
    if any(k.endswith(":rerank") for k in s):
        for p in POOLS:
            for n in NS:
                for k in ("rerank", "wd1_wb1_wc0.5", "wd1_wb1_wc1"):
                    m = f"{p}{n}:{k}"
                    if m not in s:
                        continue
                    print(f"{m:34s} {'':8s} {s[m]['recall@100']:7.4f}   {s[m]['ndcg@10']:.4f}")


# ----------------------------------------------------------------------------------------------- summary
def latest_results(ce_sha):
    by = {}
    for fn in sorted(glob.glob(str(RESULTS / f"*-{ce_sha[:12]}-*.json"))):
        o = json.loads(pathlib.Path(fn).read_text())
        by[o["collection"]] = o  # sorted by time stamp: the last one wins
    return by


def summary(ce_sha, boot=2000, seed=0):
    by = latest_results(ce_sha)
    names = sorted(by)
    if not names:
        sys.exit(f"no results for cross-encoder {ce_sha[:12]} under {RESULTS}")
    common = set.intersection(*(set(by[n]["subset"]) for n in names))
    methods = sorted(common)
    tab = {m: [by[n]["subset"][m]["ndcg@10"] for n in names] for m in methods}
    mean = {m: float(np.mean(v)) for m, v in tab.items()}
    dense = tab["dense"]
    sizes = ", ".join(f"{n} {by[n]['subset_queries']}/{by[n]['queries']}" for n in names)
    print(f"# Cross-encoder {ce_sha[:12]}: nDCG@10 on the cross-encoder query subsets ({sizes})\n")
    hdr = "| method | " + " | ".join(names) + " | mean | mean rel. to dense |"
    print(hdr); print("|" + " --- |" * (len(names) + 3))

    def row(m):
        rel = np.mean([(x - d) / d for x, d in zip(tab[m], dense)])
        return f"| {m} | " + " | ".join(f"{x:.3f}" for x in tab[m]) + f" | {mean[m]:.4f} | {rel * 100:+.1f}% |"
    fixed = ["bm25_plain", "bm25", "dense", "rrf_plain", "rrf"]
    for m in fixed:
        print(row(m))
    for p in POOLS:
        for n in NS:
            for k in ("rerank", "wd1_wb1_wc0", "wd1_wb1_wc0.5", "wd1_wb1_wc1"):
                if f"{p}{n}:{k}" in tab:
                    print(row(f"{p}{n}:{k}"))
    # wd*z(d)+wb*z(b)+wc*z(c) ranks like (1, wb/wd, wc/wd): keep one name per ratio (the wd=1 one).
    seen, fused = set(), []
    for m in sorted((m for m in methods if ":" in m and not m.endswith("rerank")),
                    key=lambda m: (m.split(":")[0], "_wd1_" not in "_" + m.split(":")[1] + "_", m)):
        pool, w = m.split(":")
        wd, wb, wc = (float(x[2:]) for x in w.split("_"))
        key = (pool, round(wb / wd, 4), round(wc / wd, 4))
        if key not in seen:
            seen.add(key); fused.append(m)
    ranked = sorted(fused, key=lambda m: -mean[m])
    print("\n## Top 15 fused configurations by mean nDCG@10 over collections\n")
    print(hdr); print("|" + " --- |" * (len(names) + 3))
    for m in ranked[:15]:
        print(row(m))
    best = ranked[0]
    # Paired bootstrap over queries (resampled within each collection), mean over collections.
    rng = np.random.default_rng(seed)
    pq = {n: by[n]["per_query_ndcg@10"] for n in names}
    idx = {n: rng.integers(0, len(pq[n]["dense"]), (boot, len(pq[n]["dense"]))) for n in names}

    def boot_diff(a, b):
        diffs = np.zeros(boot)
        for n in names:
            x = np.array(pq[n][a]) - np.array(pq[n][b])
            diffs += x[idx[n]].mean(1)
        diffs /= len(names)
        return float(np.mean(diffs)), float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))
    print(f"\n## Best: {best} (mean {mean[best]:.4f}). Paired bootstrap ({boot}x) of best minus other, "
          f"mean over collections, 95% interval\n")
    comps = ranked[1:8] + [m for m in ("dense", "rrf", "dense100:wd1_wb1_wc0", "hybrid100:wd1_wb1_wc0",
                                         "dense100:rerank", "hybrid100:rerank") if m in tab]
    for m in comps:
        d, lo, hi = boot_diff(best, m)
        print(f"- vs {m:28s} ({mean[m]:.4f}): {d:+.4f} [{lo:+.4f}, {hi:+.4f}]")
    # Leave-one-collection-out: choose on the others, score on the held-out one.
    print("\n## Leave-one-collection-out choice (fused configurations)\n")
    for i, n in enumerate(names):
        others = lambda m: np.mean([x for j, x in enumerate(tab[m]) if j != i])
        pick = max(ranked, key=others)
        oracle = max(ranked, key=lambda m: tab[m][i])
        print(f"- {n}: chosen {pick} -> {tab[pick][i]:.3f} (best here {oracle} {tab[oracle][i]:.3f}; "
              f"dense {tab['dense'][i]:.3f}; wc=0 of same pool {tab[pick.rsplit('_wc', 1)[0] + '_wc0'][i]:.3f})")
    # Does the cross-encoder help? Best wc>0 vs its wc=0 twin per collection.
    print("\n## Cross-encoder as third signal: per collection, nDCG@10 by wc for one pool/N/wd/wb\n")
    base = next(m.rsplit("_wc", 1)[0] for m in ranked if all(f"{m.rsplit('_wc', 1)[0]}_wc{wc:g}" in tab for wc in WC))
    print(f"(pool/N/wd/wb: {base}, the best with cross-encoder scores)\n")
    for i, n in enumerate(names):
        vals = {wc: tab[f"{base}_wc{wc:g}"][i] for wc in WC}
        bw = max(vals, key=vals.get)
        print(f"- {n}: " + ", ".join(f"wc{wc:g} {v:.3f}" for wc, v in vals.items()) + f"  -> best wc {bw:g}")
    # Without the cross-encoder, on all queries: pool, N and wd/wb.
    alln = {m: [by[n]["all_queries"][m]["ndcg@10"] for n in names] for m in set.intersection(*(set(by[n]["all_queries"]) for n in names))}
    print("\n## Without the cross-encoder, all queries: mean nDCG@10 over collections\n")
    print("| method | " + " | ".join(names) + " | mean |"); print("|" + " --- |" * (len(names) + 2))
    for m in sorted(alln, key=lambda m: -np.mean(alln[m]))[:14] + ["rrf", "dense", "bm25"]:
        print(f"| {m} | " + " | ".join(f"{x:.3f}" for x in alln[m]) + f" | {np.mean(alln[m]):.4f} |")
    # Per collection: does the cross-encoder help at all (best wc>0 config vs best wc=0 config)?
    print("\n## Per collection: best configuration with wc=0 vs best with wc>0 (subset queries)\n")
    for i, n in enumerate(names):
        b0 = max((m for m in ranked if m.endswith("_wc0")), key=lambda m: tab[m][i])
        b1 = max((m for m in ranked if not m.endswith("_wc0")), key=lambda m: tab[m][i])
        print(f"- {n}: wc=0 best {b0} {tab[b0][i]:.3f}; wc>0 best {b1} {tab[b1][i]:.3f}")
    return {"names": names, "mean": mean, "best": best}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("collections", nargs="*")
    ap.add_argument("--ce", default=str(ROOT / "models" / "cross-encoder" / "model.onnx"))
    ap.add_argument("--no-ce", action="store_true", help="skip the cross-encoder (BM25/dense/fusion without it)")
    ap.add_argument("--bi", default=str(ROOT / "models" / "bi-encoder"))
    ap.add_argument("--limit-queries", type=int, default=None,
                    help="cross-encoder query subset size (default: 100 for scifact and cran, else all)")
    ap.add_argument("--all-queries", action="store_true", help="no query limit anywhere")
    ap.add_argument("--ce-depth", type=int, default=CE_DEPTH, help="cross-encoder scores the top this many of each pool")
    ap.add_argument("--summary", action="store_true")
    a = ap.parse_args()
    if a.summary:
        summary(sha256(a.ce) if not a.no_ce else "noce")
        return
    bi = BiEncoder(a.bi)
    ce = None if a.no_ce else CrossEncoder(a.ce)
    for coll in a.collections:
        name = pathlib.Path(coll).name
        limit = None if a.all_queries else (a.limit_queries or DEFAULT_LIMITS.get(name))
        print_collection(evaluate(coll, bi, ce, limit, ce_depth=a.ce_depth))


if __name__ == "__main__":
    main()
