#!/usr/bin/env python3
"""Reference outputs for minirank's parity tests, computed with onnxruntime on the same files.

    python3 scripts/make_reference.py            # writes tests/fixtures/*_reference.json

Needs: onnxruntime, tokenizers, numpy (pip install onnxruntime tokenizers numpy).
Independent of minirank: Python `tokenizers` encodes, onnxruntime runs the graph (batch 1, no
padding), numpy pools. Truncation: single texts keep 256 tokens; pairs truncate the document
side only ("only_second"), which is what minirank does whenever the query fits.
"""
import hashlib, json, pathlib
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
MAX_LEN = 256


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def session(path):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def feeds(sess, enc):
    names = {i.name for i in sess.get_inputs()}
    f = {"input_ids": np.array([enc.ids], dtype=np.int64),
         "attention_mask": np.array([enc.attention_mask], dtype=np.int64)}
    if "token_type_ids" in names:
        f["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
    return f


seed_docs = [json.loads(l)["text"] for l in (FIX / "seed000.jsonl").read_text().splitlines()]
questions = json.loads((FIX / "seed000_questions.json").read_text())["questions"]
long_doc = " ".join(f"Sentence {i} about multiprocessing, pickling and the GIL in CPython." for i in range(80))
edge = [
    "naïve café — Ünïcödé façade, résumé",
    "東京は日本の首都です。 中文文本测试",
    "emoji 👩‍👩‍👧 and ZWJ sequences 🇫🇷 ok",
    "RTL: مرحبا بالعالم שלום עולם",
    "x",
    "supercalifragilisticexpialidocious" * 6,
    long_doc,
]


def bi_encoder():
    d = ROOT / "models" / "bi-encoder"
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LEN)
    sess = session(d / "model.onnx")
    texts = seed_docs + questions + edge
    out = {"model_sha256": sha(d / "model.onnx"), "tokenizer_sha256": sha(d / "tokenizer.json"),
           "max_length": MAX_LEN, "texts": texts, "ids": [], "embeddings": []}
    for t in texts:
        enc = tok.encode(t)
        h = sess.run(None, feeds(sess, enc))[0][0]  # [seq, hidden]
        m = np.array(enc.attention_mask, dtype=np.float32)[:, None]
        v = (h * m).sum(0) / m.sum()
        v = v / np.linalg.norm(v)
        out["ids"].append(enc.ids)
        out["embeddings"].append([round(float(x), 7) for x in v])
    return out


def cross_encoder():
    d = ROOT / "models" / "cross-encoder"
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_LEN, strategy="only_second")
    sess = session(d / "model.onnx")
    pairs = [[q, doc] for q in questions for doc in seed_docs]
    pairs += [[questions[0], long_doc], [questions[1], edge[2]], ["東京", edge[1]]]
    out = {"model_sha256": sha(d / "model.onnx"), "tokenizer_sha256": sha(d / "tokenizer.json"),
           "max_length": MAX_LEN, "pairs": pairs, "ids": [], "type_ids": [], "logits": []}
    for q, doc in pairs:
        enc = tok.encode(q, doc)
        logit = sess.run(None, feeds(sess, enc))[0][0][0]
        out["ids"].append(enc.ids)
        out["type_ids"].append(enc.type_ids)
        out["logits"].append(round(float(logit), 6))
    return out


HOSTILE = [
    "", " ", "\t\n\r  \u3000", "\x00", "nul\x00inside\x00text", "\x01\x02\x07\x1b[31mansi\x1b[0m \x7f",
    "\ufeffbyte order mark", "line\u2028separator\u2029paragraph", "zero\u200bwidth\u200cjoiner\u200d",
    "👩‍👩‍👧‍👦 family 🏳️‍🌈 flag 🇯🇵 🤷🏽‍♀️", "emoji🙂glued😀together", "مرحبا بالعالم (RTL) שלום עולם",
    "\u202eRLO override\u202c text", "中文分词测试，日本語のテキスト、한국어 텍스트", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "e\u0301 combining a\u0308\u0304 marks Z\u0351\u0352\u0353a\u0354\u0355lgo", "ﬁ ligature Å Ω µ ß",
    "a" * 500, "supercalifragilistic" * 30, "x" + "-" * 300, "1234567890" * 40, "http://example.com/path?query=1&b=2#frag",
    "<script>alert(1)</script> & \"quotes\" 'single'", "[CLS] [SEP] [PAD] [MASK] [UNK] special tokens in text",
    "MiXeD CaSe ÀÉÎÕÜ", "tabs\tand\nnewlines\r\nmixed", "\U0001F600" * 100,
]


def hostile():
    out = {"texts": HOSTILE, "max_length": MAX_LEN}
    for role, folder, pair in [("bi_encoder", "bi-encoder", False), ("cross_encoder", "cross-encoder", True)]:
        d = ROOT / "models" / folder
        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(max_length=MAX_LEN, strategy="only_second" if pair else "longest_first")
        q = "what does this text say?"
        encs = [tok.encode(q, t) if pair else tok.encode(t) for t in HOSTILE]
        out[role] = {"tokenizer_sha256": sha(d / "tokenizer.json"), "pair_query": q if pair else None,
                     "ids": [e.ids for e in encs], "type_ids": [e.type_ids for e in encs]}
    return out


if __name__ == "__main__":
    for name, fn in [("bi_encoder", bi_encoder), ("cross_encoder", cross_encoder), ("hostile_tokenization", hostile)]:
        data = fn()
        path = FIX / f"{name}_reference.json"
        path.write_text(json.dumps(data, ensure_ascii=False) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")
