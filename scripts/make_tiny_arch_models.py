#!/usr/bin/env python3
"""Tiny random BERT / DistilBERT / RoBERTa / XLM-RoBERTa models for tests/architectures.rs.

    ~/.cache/minirank/train-venv/bin/python scripts/make_tiny_arch_models.py

Needs torch, transformers, onnx, onnxruntime, tokenizers, numpy. Writes tests/fixtures/tiny/arch/:

- <arch>-bi/   model.onnx (AutoModel -> last_hidden_state [b, s, 32]), tokenizer.json, config.json
- <arch>-ce/   model.onnx (...ForSequenceClassification, num_labels=1 -> logits [b, 1]), tokenizer.json, config.json
- unsupported/ position_ids_input.onnx (a BERT export that also takes position_ids),
               sentence_embedding_only.onnx (a BERT export whose only output is the pooled [b, 16] vector)
               (1 layer, hidden 16, the BERT tokenizer's vocabulary)
- reference.json  token ids, mean-pooled L2-normalised embeddings and logits from Python `tokenizers` +
                  onnxruntime (batch 1, no padding), per architecture

Architectures (2 layers, hidden 32, 2 heads, intermediate 64, seeded random weights, eager attention):

| arch       | tokenizer                                   | pair template               | pad | graph inputs          |
| bert       | WordPiece, BertNormalizer/BertPreTokenizer  | [CLS] A [SEP] B:1 [SEP]:1   | 0   | ids, mask, type ids   |
| distilbert | the same WordPiece (segment 1 in pairs, as  | [CLS] A [SEP] B:1 [SEP]:1   | 0   | ids, mask             |
|            | distilbert-base-uncased's tokenizer.json)   |                             |     |                       |
| roberta    | byte-level BPE, RobertaProcessing           | <s> A </s></s> B </s>       | 1   | ids, mask (Optimum)   |
| xlmr       | Unigram + Metaspace (SentencePiece-style)   | <s> A </s></s> B </s>       | 1   | ids, mask (Optimum)   |
| deberta    | Unigram + Metaspace, DeBERTa-v3's specials  | [CLS] A [SEP] B:1 [SEP]:1   | 0   | ids, mask             |
|            | ([PAD] [CLS] [SEP] [UNK] first)             | (type_vocab_size 0)         |     |                       |
| modernbert | byte-level BPE, [CLS]/[SEP] template        | [CLS] A [SEP] B:1 [SEP]:1   | pad | ids, mask             |

DeBERTa-v2/v3 (mxbai-rerank) keeps relative positions (position_buckets 32, max_relative_positions
64, "p2c|c2p"); ModernBERT (gte-reranker-modernbert) rotary positions, alternating global and local
(window 16) attention, GeGLU. `--only deberta,modernbert` builds just those and merges their
references into reference.json (the others' files stay as they are); `--references` recomputes
the references from the files there, building nothing.

RoBERTa and XLM-R compute position ids inside the graph from input_ids (padding_idx + 1 + cumsum of
non-pad tokens), so their position tables have max_position_embeddings = 130 rows for 128 usable
positions. The vocabularies come from made-up text (CORPUS): BpeTrainer for RoBERTa; for WordPiece and
Unigram the most frequent words / pieces, ranked here (their trainers break ties in hash order, so
their output changes from run to run). Each model's vocab_size is its tokenizer's. Everything is
deterministic and seeded: a rerun writes the same files (with the same torch / transformers versions;
the references are always recomputed from the files written), but for ModernBERT's two graphs, whose
bytes differ between runs while their values and outputs stay the same.
"""
import hashlib, json, os, pathlib, random

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import onnx
import onnxruntime as ort
import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tiny" / "arch"
MAX_POS = 128      # usable positions (BERT/DistilBERT tables have 128 rows, RoBERTa/XLM-R 130)
VOCAB = 320        # target vocabulary size (the trainers may stop a little short; the model follows)
OPSET = 17

CORPUS = """
The lighthouse keeper counted seven ships before the storm reached the harbour. Each night she wrote the
weather, the wind and the colour of the sea into a small green notebook. Fishermen said the notebook knew
more about the coast than any chart in the capital. When the old lamp failed, the village gathered oil,
candles and mirrors, and the light returned before midnight.
A quiet library in the mountains keeps maps of rivers that no longer exist. Students travel there to read
about forgotten bridges, vanished mills and the patient work of surveyors who walked every valley on foot.
The librarian answers questions with more questions, and visitors leave with better questions than they
brought. Search is the art of asking the right question; ranking is the art of deciding which answer comes first.
Python processes share state through queues, pipes and shared memory. Threads share memory directly but the
global interpreter lock lets only one thread run bytecode at a time, so CPU bound work runs faster in separate
processes while IO bound work waits happily on an event loop. Rust programs move data between threads safely
because the compiler checks ownership, borrowing and lifetimes before the program ever runs.
A baker in the old town rises at four, lights the oven, folds the dough and listens to the radio. Bread,
croissants and small almond cakes leave the shop before the first tram. On Sundays the queue reaches the
fountain, and the baker's daughter sells coffee to people who wait in the cold.
Gardens teach patience: tomatoes need sun, beans need poles, and lettuce bolts in the heat of July. A
compost heap turns kitchen scraps into dark soil in a few months if it is turned often and kept damp.
The café on the corner serves crème brûlée, naïve poetry readings and strong espresso. Its owner, Zoë,
speaks French, German and a little Japanese: 東京, 日本, ありがとう. Prices are written in euros (€) and the
menu changes every season — spring, summer, autumn, winter.
Semantic search embeds documents as vectors, retrieves the nearest candidates for a query, and a cross
encoder reads each query and document together to score how well they match. Tokenizers split text into
word pieces, byte pairs or unigram pieces; models see only the ids, the attention mask and sometimes the
segment ids that tell the query from the document. Numbers like 42, 1999 and 3.14 appear in many texts.
"""

TEXTS = [
    "The lighthouse keeper wrote the weather into a notebook.",
    "python threads",
    "Zoë's café serves crème brûlée near 東京 — prices in € 😀!",
    "x",
    "Semantic search embeds documents as vectors and a cross encoder scores each query and document.",
    " ".join(f"Sentence {i} about bread, gardens, rivers and the storm that reached the harbour." for i in range(60)),
    "UNSEEN wörds: qzxv jjjj ÆØÅ ß ﬁ",
]
QUERIES = ["how do python processes share state", "who bakes bread before the first tram"]
PAIR_DOCS = [
    "Python processes share state through queues, pipes and shared memory.",
    "A baker in the old town rises at four and lights the oven.",
    "Gardens teach patience.",
    " ".join(f"Paragraph {i}: the librarian answers questions with more questions in the mountains." for i in range(50)),
]


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------ tokenizers
def corpus_lines():
    return [l.strip() for l in CORPUS.strip().splitlines() if l.strip()]


def ranked(counts, n, exclude=()):
    """The n most frequent keys, ties broken by the key itself (the tokenizers trainers for WordPiece
    and Unigram break ties in hash order, so their vocabularies change from run to run)."""
    keys = sorted((k for k in counts if k not in exclude), key=lambda k: (-counts[k], k))
    return keys[:n]


def with_bert_pairs(tok):
    """BERT's template, `[CLS] A [SEP]` and `[CLS] A [SEP] B:1 [SEP]:1`; returns (tok, pad id)."""
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok, tok.token_to_id("[PAD]")


def wordpiece_tokenizer():
    """BERT-style WordPiece: every character (alone and as ##continuation), then the most frequent
    words and ##suffixes of the corpus."""
    from collections import Counter
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    words = Counter(w for line in corpus_lines() for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(line)))
    chars = sorted({c for w in words for c in w})
    vocab = specials + chars + ["##" + c for c in chars]
    pieces = Counter()
    for w, n in words.items():
        pieces[w] += n
        for i in range(1, len(w) - 1):
            pieces["##" + w[i:]] += n
    vocab += ranked(pieces, VOCAB - len(vocab), exclude=set(vocab))
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.add_special_tokens(specials)
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece(prefix="##")
    return with_bert_pairs(tok)


def bpe_tokenizer():
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus_lines() * 4, trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=2))
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    return tok, tok.token_to_id("<pad>")


def unigram_tokenizer():
    """SentencePiece-style Unigram (XLM-R's layout: <s> <pad> </s> <unk> first, <mask> last):
    every character, then the most frequent pieces of the Metaspace words, scored by log frequency."""
    import math
    from collections import Counter
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    pre = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    words = Counter(w for line in corpus_lines() for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(line)))
    pieces = Counter()
    for w, n in words.items():
        for i in range(len(w)):
            for j in range(i + 1, min(len(w), i + 8) + 1):
                pieces[w[i:j]] += n
    chars = sorted({c for w in words for c in w})
    chosen = chars + ranked(pieces, VOCAB - 1 - len(specials) - len(chars), exclude=set(chars))
    total = sum(pieces[p] for p in chosen)
    vocab = [(t, 0.0) for t in specials] + [(p, math.log(pieces[p] / total)) for p in chosen]
    tok = Tokenizer(models.Unigram(vocab, unk_id=specials.index("<unk>"), byte_fallback=False))
    tok.add_special_tokens(specials + ["<mask>"])  # <mask> gets the last id, as in xlm-roberta-base
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    s, e = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s>:0 $A:0 </s>:0", pair="<s>:0 $A:0 </s>:0 </s>:0 $B:0 </s>:0",
        special_tokens=[("<s>", s), ("</s>", e)])
    return tok, tok.token_to_id("<pad>")


def deberta_tokenizer():
    """DeBERTa-v3's layout: the Unigram pieces of unigram_tokenizer() behind [PAD] [CLS] [SEP] [UNK],
    [MASK] last, and BERT's pair template (the document is segment 1)."""
    uni, _ = unigram_tokenizer()
    data = json.loads(uni.to_str())
    pieces = [p for p in data["model"]["vocab"] if p[0] not in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]
    vocab = [(t, 0.0) for t in specials] + [tuple(p) for p in pieces]
    tok = Tokenizer(models.Unigram(vocab, unk_id=specials.index("[UNK]"), byte_fallback=False))
    tok.add_special_tokens(specials + ["[MASK]"])
    tok.normalizer = uni.normalizer
    tok.pre_tokenizer = uni.pre_tokenizer
    tok.decoder = uni.decoder
    return with_bert_pairs(tok)


def modernbert_tokenizer():
    """ModernBERT's layout: byte-level BPE (its pieces trained here) with [CLS]/[SEP] around the
    texts, BERT's pair template."""
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus_lines() * 4, trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=2))
    return with_bert_pairs(tok)


# ------------------------------------------------------------------------------------------ models
def config(arch, vocab, labels=None, pad=None, cls=None, sep=None):
    from transformers import BertConfig, DistilBertConfig, RobertaConfig, XLMRobertaConfig
    common = dict(vocab_size=vocab, attn_implementation="eager")
    if labels:
        common["num_labels"] = labels
    if arch == "bert":
        return BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                          max_position_embeddings=MAX_POS, type_vocab_size=2, pad_token_id=0, initializer_range=0.2, **common)
    if arch == "deberta":
        from transformers import DebertaV2Config
        return DebertaV2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                               max_position_embeddings=MAX_POS, type_vocab_size=0, pad_token_id=0,
                               relative_attention=True, position_buckets=32, max_relative_positions=64,
                               pos_att_type=["p2c", "c2p"], position_biased_input=False, norm_rel_ebd="layer_norm",
                               share_att_key=True, hidden_act="gelu", initializer_range=0.2, **common)
    if arch == "modernbert":
        from transformers import ModernBertConfig
        return ModernBertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                max_position_embeddings=MAX_POS, global_attn_every_n_layers=2, local_attention=16,
                                pad_token_id=pad, cls_token_id=cls, sep_token_id=sep, bos_token_id=cls,
                                eos_token_id=sep, initializer_range=0.2, **common)
    if arch == "distilbert":
        return DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=MAX_POS,
                                pad_token_id=0, initializer_range=0.2, **common)
    cls = RobertaConfig if arch == "roberta" else XLMRobertaConfig
    return cls(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
               max_position_embeddings=MAX_POS + 2, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
               eos_token_id=2, initializer_range=0.2, **common)


def has_token_types(arch):
    return arch == "bert"


class BiWrapper(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.m(input_ids=input_ids, attention_mask=attention_mask, **kw).last_hidden_state


class CeWrapper(BiWrapper):
    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kw = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.m(input_ids=input_ids, attention_mask=attention_mask, **kw).logits


class PositionIdsWrapper(torch.nn.Module):  # unsupported: an extra input
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids, position_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                      position_ids=position_ids).last_hidden_state


class PooledWrapper(BiWrapper):  # unsupported: only a pooled [b, hidden] output
    def forward(self, input_ids, attention_mask, token_type_ids=None):
        h = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1)


def export(module, path, names, output, example, rank):
    module.eval()
    dyn = {n: {0: "batch", 1: "sequence"} for n in names}
    dyn[output] = {0: "batch", 1: "sequence"} if rank == 3 else {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(module, tuple(example[n] for n in names), str(path), dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=[output], dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    # drop the exporter's doc strings (stack traces) to keep the fixtures small and stable
    for n in m.graph.node:
        n.doc_string = ""
    m.producer_version = ""
    onnx.save(m, str(path))
    # onnxruntime agrees with torch
    sess = session(path)
    with torch.no_grad():
        want = module(*[example[n] for n in names]).numpy()
    got = sess.run(None, {n: example[n].numpy() for n in names})[0]
    mask = example["attention_mask"].numpy().astype(bool)
    diff = np.abs((got - want)[mask] if rank == 3 else got - want).max()
    assert diff <= 1e-4, (path, diff)


def session(path):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def example_batch(tok, pad_id):
    encs = [tok.encode("python processes share state"), tok.encode("bread", "the baker rises at four")]
    seq = max(len(e.ids) for e in encs)
    ids = [e.ids + [pad_id] * (seq - len(e.ids)) for e in encs]
    mask = [[1] * len(e.ids) + [0] * (seq - len(e.ids)) for e in encs]
    tt = [e.type_ids + [0] * (seq - len(e.ids)) for e in encs]
    t = lambda x: torch.tensor(x, dtype=torch.int64)
    return {"input_ids": t(ids), "attention_mask": t(mask), "token_type_ids": t(tt)}


def write_config(cfg, path):
    d = cfg.to_dict()
    d["architectures"] = [cfg.architectures[0]] if cfg.architectures else None
    d = {k: v for k, v in d.items() if v is not None and k not in ("transformers_version", "dtype", "torch_dtype")}
    path.write_text(json.dumps(d, indent=1, sort_keys=True) + "\n")


def build(arch, tok, pad_id):
    from transformers import (AutoModel, AutoModelForSequenceClassification)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if has_token_types(arch) else [])
    example = example_batch(tok, pad_id)
    for role, seed in (("bi", 1), ("ce", 2)):
        d = OUT / f"{arch}-{role}"
        d.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(seed)
        ids = dict(pad=pad_id, cls=tok.token_to_id("[CLS]"), sep=tok.token_to_id("[SEP]"))
        if role == "bi":
            cfg = config(arch, vocab, **ids)
            model = AutoModel.from_config(cfg)
            cfg.architectures = [type(model).__name__]
            export(BiWrapper(model), d / "model.onnx", names, "last_hidden_state", example, 3)
        else:
            cfg = config(arch, vocab, labels=1, **ids)
            model = AutoModelForSequenceClassification.from_config(cfg)
            cfg.architectures = [type(model).__name__]
            export(CeWrapper(model), d / "model.onnx", names, "logits", example, 2)
        tok.save(str(d / "tokenizer.json"))
        write_config(cfg, d / "config.json")


def build_unsupported(tok, pad_id):
    from transformers import BertModel
    d = OUT / "unsupported"
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(3)
    cfg = config("bert", tok.get_vocab_size(with_added_tokens=True))
    cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.num_attention_heads = 16, 32, 1, 1
    model = BertModel(cfg)
    ex = example_batch(tok, pad_id)
    ex["position_ids"] = torch.arange(ex["input_ids"].shape[1]).unsqueeze(0).expand_as(ex["input_ids"]).contiguous()
    export(PositionIdsWrapper(model), d / "position_ids_input.onnx",
           ["input_ids", "attention_mask", "token_type_ids", "position_ids"], "last_hidden_state", ex, 3)
    export(PooledWrapper(model), d / "sentence_embedding_only.onnx",
           ["input_ids", "attention_mask", "token_type_ids"], "sentence_embedding", ex, 2)


# ------------------------------------------------------------------------------------------ references
def feeds(sess, ids, mask, type_ids):
    names = {i.name for i in sess.get_inputs()}
    a = lambda x: np.array(x, dtype=np.int64)
    f = {"input_ids": a(ids), "attention_mask": a(mask)}
    if "token_type_ids" in names:
        f["token_type_ids"] = a(type_ids)
    return f


def reference(arch, pad_id):
    bi, ce = OUT / f"{arch}-bi", OUT / f"{arch}-ce"
    tok = Tokenizer.from_file(str(bi / "tokenizer.json"))
    tok.no_padding()
    out = {"max_length": MAX_POS, "pad_id": pad_id, "vocab_size": tok.get_vocab_size(True),
           "bi_sha256": sha(bi / "model.onnx"), "ce_sha256": sha(ce / "model.onnx"),
           "texts": TEXTS, "ids": [], "embeddings": [], "cls_embeddings": [], "pairs": [], "pair_ids": [],
           "pair_type_ids": [], "logits": []}
    sess = session(bi / "model.onnx")
    tok.enable_truncation(max_length=MAX_POS)
    encs = [tok.encode(t) for t in TEXTS]
    for e in encs:
        h = sess.run(None, feeds(sess, [e.ids], [e.attention_mask], [e.type_ids]))[0][0]
        m = np.array(e.attention_mask, dtype=np.float32)[:, None]
        v = (h * m).sum(0) / m.sum()
        v = v / np.linalg.norm(v)
        out["ids"].append(e.ids)
        out["embeddings"].append([round(float(x), 7) for x in v])
        c = h[0] / np.linalg.norm(h[0])  # CLS pooling: the first token's state
        out["cls_embeddings"].append([round(float(x), 7) for x in c])
    assert max(len(e.ids) for e in encs) == MAX_POS, "one text must be truncated"
    # padding check: a right-padded batch (pad id, mask 0) gives the unpadded token states
    seq = max(len(e.ids) for e in encs)
    batch = feeds(sess, [e.ids + [pad_id] * (seq - len(e.ids)) for e in encs],
                  [[1] * len(e.ids) + [0] * (seq - len(e.ids)) for e in encs],
                  [e.type_ids + [0] * (seq - len(e.ids)) for e in encs])
    hb = sess.run(None, batch)[0]
    for i, e in enumerate(encs):
        single = sess.run(None, feeds(sess, [e.ids], [e.attention_mask], [e.type_ids]))[0][0]
        assert np.abs(hb[i, :len(e.ids)] - single).max() < 1e-4, (arch, i)

    sess = session(ce / "model.onnx")
    tok.enable_truncation(max_length=MAX_POS, strategy="only_second")
    pairs = [[q, d] for q in QUERIES for d in PAIR_DOCS] + [["café 東京", TEXTS[2]]]
    for q, d in pairs:
        e = tok.encode(q, d)
        logit = sess.run(None, feeds(sess, [e.ids], [e.attention_mask], [e.type_ids]))[0][0][0]
        out["pairs"].append([q, d])
        out["pair_ids"].append(e.ids)
        out["pair_type_ids"].append(e.type_ids)
        out["logits"].append(round(float(logit), 6))
    assert max(len(i) for i in out["pair_ids"]) == MAX_POS, "one pair must be truncated"
    return out


def main():
    import sys
    random.seed(0)
    np.random.seed(0)
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
    word, pad_word = wordpiece_tokenizer()
    bpe, pad_bpe = bpe_tokenizer()
    uni, pad_uni = unigram_tokenizer()
    deb, pad_deb = deberta_tokenizer()
    mod, pad_mod = modernbert_tokenizer()
    archs = [("bert", word, pad_word), ("distilbert", word, pad_word), ("roberta", bpe, pad_bpe), ("xlmr", uni, pad_uni),
             ("deberta", deb, pad_deb), ("modernbert", mod, pad_mod)]
    refs = {}
    if only:
        archs = [a for a in archs if a[0] in only]
        refs = json.loads((OUT / "reference.json").read_text())
    for arch, tok, pad in archs:
        if "--references" not in sys.argv:
            build(arch, tok, pad)
        refs[arch] = reference(arch, pad)
        spread = np.ptp(refs[arch]["logits"])
        print(f"{arch}: vocab {tok.get_vocab_size(True)}, pad {pad}, logits spread {spread:.3f}")
    if not only and "--references" not in sys.argv:
        build_unsupported(word, pad_word)
    (OUT / "reference.json").write_text(json.dumps(refs, ensure_ascii=False) + "\n")
    total = 0
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"{p.relative_to(ROOT)} {p.stat().st_size}")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
