#!/usr/bin/env python3
"""Tiny ONNX graphs for fast tests of model loading and its errors (tests/fixtures/tiny/).

    python3 scripts/make_tiny_models.py      # needs the `onnx` package

- encoder_vocab100.onnx: input_ids/attention_mask/token_type_ids -> Gather([100, 8]) + type emb -> last_hidden_state [b, s, 8]
- reranker_vocab100.onnx: same body, mean over the sequence, MatMul [8, 1] -> logits [b, 1]
- reranker_no_token_types.onnx: as above without token_type_ids (RoBERTa-style)
- tokenizer_vocab100.json / tokenizer_vocab100_one_segment.json: BERT-style pairs (segments 0/1) / one segment
- unexpected_input.onnx: takes pixel_values
- no_attention_mask.onnx: takes only input_ids
- two_labels.onnx / three_labels.onnx: logits [b, 2] / [b, 3]
"""
import pathlib
import numpy as np
import onnx
from onnx import TensorProto, helper as h, numpy_helper as nh

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
V, H = 100, 8


def ids_input(name):
    return h.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])


def body(types=True):
    nodes = [h.make_node("Gather", ["word_emb", "input_ids"], ["w"], axis=0)]
    inits = [nh.from_array(rng.standard_normal((V, H)).astype(np.float32), "word_emb")]
    last = "w"
    if types:
        nodes.append(h.make_node("Gather", ["type_emb", "token_type_ids"], ["t"], axis=0))
        nodes.append(h.make_node("Add", ["w", "t"], ["wt"]))
        inits.append(nh.from_array(rng.standard_normal((2, H)).astype(np.float32), "type_emb"))
        last = "wt"
    # scale by the mask so attention_mask is used
    nodes += [h.make_node("Cast", ["attention_mask"], ["mf"], to=TensorProto.FLOAT),
              h.make_node("Unsqueeze", ["mf", "axes"], ["m3"]),
              h.make_node("Mul", [last, "m3"], ["hidden"])]
    inits.append(nh.from_array(np.array([2], dtype=np.int64), "axes"))
    return nodes, inits


def save(name, nodes, inits, inputs, outputs):
    g = h.make_graph(nodes, name, inputs, outputs, inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, OUT / f"{name}.onnx")


def std_inputs(types=True):
    ins = [ids_input("input_ids"), ids_input("attention_mask")]
    return ins + ([ids_input("token_type_ids")] if types else [])


def encoder():
    nodes, inits = body()
    nodes.append(h.make_node("Identity", ["hidden"], ["last_hidden_state"]))
    save("encoder_vocab100", nodes, inits, std_inputs(),
         [h.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", H])])


def reranker(name, labels=1, types=True):
    nodes, inits = body(types)
    nodes += [h.make_node("ReduceMean", ["hidden"], ["pooled"], axes=[1], keepdims=0),
              h.make_node("MatMul", ["pooled", "head"], ["logits"])]
    inits += [nh.from_array(rng.standard_normal((H, labels)).astype(np.float32), "head")]
    save(name, nodes, inits, std_inputs(types),
         [h.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", labels])])


def odd_inputs():
    x = h.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3])
    nodes = [h.make_node("Cast", ["input_ids"], ["f"], to=TensorProto.FLOAT),
             h.make_node("ReduceSum", ["f"], ["s"], keepdims=1),  # [1, 1]
             h.make_node("Mul", ["pixel_values", "s"], ["logits"])]
    save("unexpected_input", nodes, [], [ids_input("input_ids"), x],
         [h.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])])
    nodes = [h.make_node("Cast", ["input_ids"], ["logits"], to=TensorProto.FLOAT)]
    save("no_attention_mask", nodes, [], [ids_input("input_ids")],
         [h.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence"])])


def tokenizer():
    """A 100-token WordPiece vocabulary in the BERT tokenizer.json layout."""
    import json
    base = json.loads((OUT.parent.parent.parent / "models" / "cross-encoder" / "tokenizer.json").read_text())
    special = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
    words = ("the a an of to and in is it for on with as by at from that this be are was python code "
             "process thread async await queue lock gil parallel cpu bound io event loop task run fast "
             "slow what how why which best way does handle concurrency without difference between "
             "data model search query document rank score text word token index vector").split()
    letters = list("abcdefghijklmnopqrstuvwxyz0123456789.,?!'")
    vocab = dict(special)
    for w in words + letters + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]:
        if len(vocab) < V and w not in vocab:
            vocab[w] = len(vocab)
    assert len(vocab) == V, len(vocab)
    base["model"]["vocab"] = vocab
    for t in base["added_tokens"]:
        t["id"] = special[t["content"]]
    for name, tok in base["post_processor"]["special_tokens"].items():
        tok["ids"] = [special[name]]
    base["truncation"] = None
    base["padding"] = None
    (OUT / "tokenizer_vocab100.json").write_text(json.dumps(base, ensure_ascii=False))
    # the same vocabulary with one segment id for both sides of a pair (RoBERTa-style)
    for part in base["post_processor"]["pair"]:
        for v in part.values():
            v["type_id"] = 0
    (OUT / "tokenizer_vocab100_one_segment.json").write_text(json.dumps(base, ensure_ascii=False))


if __name__ == "__main__":
    tokenizer()
    encoder()
    reranker("reranker_vocab100")
    reranker("reranker_no_token_types", types=False)
    reranker("two_labels", labels=2)
    reranker("three_labels", labels=3)
    odd_inputs()
    for p in sorted(OUT.glob("*.onnx")):
        print(p.relative_to(OUT.parent.parent.parent), p.stat().st_size)
