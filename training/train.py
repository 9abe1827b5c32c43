"""Distil the hybrid teacher into minirank's cross-encoder, on one CPU thread, resumably.

Student: BertForSequenceClassification (config models/cross-encoder/config.json) initialised from v0's weights,
dequantised from models/cross-encoder/model.onnx (int8 initialisers x per-channel fp32 scales). Before training the
torch model is checked against onnxruntime's logits on 20 pairs (must agree to --verify-tol).
Loss per group of 8 (1 positive + 7 mined negatives):
  KL( softmax((teacher + margin*label)/tau) || softmax(student logits) ) + ce_weight * CE(student, positive).
Checkpoints: $MINIRANK_CACHE/train/ckpt/ckpt-step-N.pt (every --ckpt-min minutes, at SIGTERM/SIGINT and at the
time budget; the last 2 kept; written atomically). `--resume` continues from the newest.
Evaluation on held-out groups every --eval-min minutes (and at step 0 and at the end): MRR@10 of the positive in its
group and mean KL; weights saved as ckpt/eval-step-N.safetensors (fp32 state_dict of BertForSequenceClassification)."""
import argparse
import glob
import json
import math
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

common.set_single_thread()
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# Where this run writes: train/ckpt + train/train.log (run 1), or train/runs/NAME/{ckpt,train.log} with --run NAME.
RUN = {"ckpt": common.CKPT_DIR, "log": os.path.join(common.TRAIN_DIR, "train.log")}
STOP = {"flag": False, "why": ""}


def log(m):
    common.log(m, RUN["log"])


# ---------------------------------------------------------------- quantisation-aware training
class FakeQuantRows(torch.nn.Module):
    """Weight-only int8 as export.py writes it: symmetric, one scale per row (per output channel of a Linear's
    [out, in] weight, per row of an embedding), scale = max|w| / 127. Straight-through gradient."""

    def forward(self, w):
        s = w.detach().abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127.0
        q = torch.round(w / s).clamp(-127, 127) * s
        return w + (q - w).detach()


QUANTISED = ("embeddings.word_embeddings", "embeddings.position_embeddings", "attention.self.query",
             "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense",
             "output.dense", "pooler.dense")


def add_fake_quant(model):
    """Registers FakeQuantRows on exactly the weights export.py stores as int8; returns how many."""
    from torch.nn.utils import parametrize
    n = 0
    for name, mod in model.named_modules():
        if name.startswith("bert.") and name.endswith(QUANTISED) and hasattr(mod, "weight"):
            parametrize.register_parametrization(mod, "weight", FakeQuantRows())
            n += 1
    return n


def plain_state_dict(model):
    """fp32 state dict with HF key names; under QAT the weights are their int8-dequantised values, so export.py's
    quantisation of them is exact. (Not deepcopy + remove_parametrizations: the copy shares the parametrized
    classes with the model, and removing the parametrization from one breaks the other.)"""
    suffix = ".parametrizations.weight.original"
    sd = {}
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if ".parametrizations." in k:
                if k.endswith(suffix):
                    name = k[: -len(suffix)]
                    sd[name + ".weight"] = model.get_submodule(name).weight.detach().float().contiguous().clone()
            else:
                sd[k] = v.detach().float().contiguous()
    return sd


# ---------------------------------------------------------------- v0 weights
def load_v0(v0_dir):
    """BertForSequenceClassification with v0's dequantised weights.

    model.onnx (torch.export -> onnx) stores initialisers as:
      lifted_tensor_0_q/_s, lifted_tensor_1_q/_s  word / position embeddings, int8 rows x per-row scale
      lifted_tensor_2 token-type embeddings; 3, 4 embedding LayerNorm weight / bias
      per layer L (base = 5 + 16 L): base+1 q.bias, +3 k.bias, +5 v.bias, +7 attn-out bias, +8/+9 attn LayerNorm,
        +11 intermediate bias, +13 output bias, +14/+15 output LayerNorm  (+0,+2,+4,+6,+10,+12 are the weights)
      permute_{6L+0..5}_q/_s  int8 [in, out] x per-output-channel scale [1, out] of q, k, v, attn-out, intermediate,
        output (transposed Linear weights); permute_36_q/_s the pooler; permute_37 the fp32 classifier [384, 1];
      lifted_tensor_102 pooler bias, lifted_tensor_104 classifier bias."""
    import onnx
    from onnx import numpy_helper
    from transformers import BertConfig, BertForSequenceClassification
    m = onnx.load(os.path.join(v0_dir, "model.onnx"))
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}

    def deq(name):
        return init[name + "_q"].astype(np.float32) * init[name + "_s"].astype(np.float32)

    def lt(i):
        return init[f"lifted_tensor_{i}"]

    sd = {"bert.embeddings.word_embeddings.weight": deq("lifted_tensor_0"),
          "bert.embeddings.position_embeddings.weight": deq("lifted_tensor_1"),
          "bert.embeddings.token_type_embeddings.weight": lt(2),
          "bert.embeddings.LayerNorm.weight": lt(3), "bert.embeddings.LayerNorm.bias": lt(4)}
    lin = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense"]
    bias_off = [1, 3, 5, 7, 11, 13]
    for L in range(6):
        base = 5 + 16 * L
        p = f"bert.encoder.layer.{L}."
        for j, name in enumerate(lin):
            sd[p + name + ".weight"] = deq(f"permute_{6 * L + j}" if 6 * L + j else "permute").T
            sd[p + name + ".bias"] = lt(base + bias_off[j])
        sd[p + "attention.output.LayerNorm.weight"] = lt(base + 8)
        sd[p + "attention.output.LayerNorm.bias"] = lt(base + 9)
        sd[p + "output.LayerNorm.weight"] = lt(base + 14)
        sd[p + "output.LayerNorm.bias"] = lt(base + 15)
    sd["bert.pooler.dense.weight"] = deq("permute_36").T
    sd["bert.pooler.dense.bias"] = lt(102)
    sd["classifier.weight"] = init["permute_37"].T
    sd["classifier.bias"] = lt(104)
    sd = {k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in sd.items()}
    model = BertForSequenceClassification(BertConfig.from_pretrained(v0_dir))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    assert not missing and not unexpected, (missing, unexpected)
    return model


def verify_against_onnx(model, tok, pairs, v0_dir, tol):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(os.path.join(v0_dir, "model.onnx"), so, providers=["CPUExecutionProvider"])
    model.eval()
    diffs = []
    with torch.inference_mode():
        for q, p in pairs:
            ids, tt = tok.pair(q, p, 256, 256)
            a = np.array([ids], dtype=np.int64)
            feeds = {"input_ids": a, "attention_mask": np.ones_like(a), "token_type_ids": np.array([tt], np.int64)}
            o = sess.run(["logits"], feeds)[0][0, 0]
            t = model(input_ids=torch.from_numpy(a), attention_mask=torch.ones_like(torch.from_numpy(a)),
                      token_type_ids=torch.tensor([tt])).logits[0, 0].item()
            diffs.append((o, t, abs(o - t)))
    mx = max(d[2] for d in diffs)
    log("v0 torch vs onnxruntime on %d pairs: max |diff| %.2e, mean %.2e; logits ort %s" % (
        len(diffs), mx, np.mean([d[2] for d in diffs]), [round(float(d[0]), 3) for d in diffs[:8]]))
    if mx > tol:
        raise SystemExit(f"dequantised v0 does not reproduce onnxruntime (max diff {mx} > {tol})")
    return mx


# ---------------------------------------------------------------- tokenisation
class PairTok:
    """[CLS] query [SEP] passage [SEP]; the query is capped first, then the passage fills the rest."""

    def __init__(self, path):
        from tokenizers import Tokenizer
        self.t = Tokenizer.from_file(path)
        self.t.no_truncation()
        self.t.no_padding()
        self.cls, self.sep = self.t.token_to_id("[CLS]"), self.t.token_to_id("[SEP]")
        self.cache = {}

    def ids(self, text):
        r = self.cache.get(text)
        if r is None:
            r = self.t.encode(text, add_special_tokens=False).ids[:512]
            if len(self.cache) < 300_000:
                self.cache[text] = r
        return r

    def pair(self, q, p, max_len, q_cap):
        qi = self.ids(q)[:q_cap]
        pi = self.ids(p)[:max(0, max_len - 3 - len(qi))]
        ids = [self.cls] + qi + [self.sep] + pi + [self.sep]
        return ids, [0] * (len(qi) + 2) + [1] * (len(pi) + 1)


def collate(batch_pairs):
    n = max(len(i) for i, _ in batch_pairs)
    ids = torch.zeros((len(batch_pairs), n), dtype=torch.long)
    tt = torch.zeros_like(ids)
    am = torch.zeros_like(ids)
    for r, (i, t) in enumerate(batch_pairs):
        ids[r, :len(i)] = torch.tensor(i)
        tt[r, :len(t)] = torch.tensor(t)
        am[r, :len(i)] = 1
    return ids, am, tt


# ---------------------------------------------------------------- data
def load_groups(split, mined_dir):
    rows = []
    for fn in sorted(glob.glob(os.path.join(mined_dir, f"{split}_*.jsonl"))):
        rows.extend(common.read_jsonl(fn))
    return rows


def style_mixed_order(groups, seed, gpb):
    """A permutation of group indices in which every batch of gpb groups mixes the styles
    (round-robin over styles in proportion to their counts)."""
    rng = random.Random(seed)
    by = {}
    for i, g in enumerate(groups):
        by.setdefault(g["style"], []).append(i)
    for v in by.values():
        rng.shuffle(v)
    total = sum(len(v) for v in by.values())
    order, taken = [], {s: 0 for s in by}
    while len(order) < total:
        # pick the style furthest behind its share
        s = min((s for s in by if taken[s] < len(by[s])),
                key=lambda s: (taken[s] + 1) / len(by[s]) + rng.random() * 1e-6)
        order.append(by[s][taken[s]])
        taken[s] += 1
    return order


def encode_groups(groups_batch, corpus, tok, args):
    pairs, teach, labels, signals = [], [], [], []
    for g in groups_batch:
        cap = args.q_cap_long if g["style"] == "long" else args.q_cap
        for m in g["members"]:
            pairs.append(tok.pair(g["query"], corpus[m["pid"]], args.max_len, cap))
        teach.append([m[args.teacher_key] for m in g["members"]])
        labels.append([m["label"] for m in g["members"]])
        signals.append([[m["dense"], m["bm25"]] for m in g["members"]])
    return (collate(pairs), torch.tensor(teach, dtype=torch.float32), torch.tensor(labels, dtype=torch.float32),
            torch.tensor(signals, dtype=torch.float32))


def zrows(x):
    """z-normalised over the last dimension (each group's members), as the fused score does over a pool."""
    return (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True, unbiased=False) + 1e-6)


def fused_scores(logits, signals, args):
    """The score the student is used in: z(dense) + z(bm25) + w * z(student logit)."""
    return zrows(signals[..., 0]) + zrows(signals[..., 1]) + args.fusion_weight * zrows(logits)


def group_loss(logits, teach, labels, signals, args):
    """--loss kl: KL to the teacher (+ margin on the label) + ce_weight * listwise CE of the student alone.
    --loss fusion: listwise CE of the *fused* score (the student inside z(dense) + z(bm25) + w z(student), as it is
    used) against the label, + kl_weight * the KL above: only what the fusion gets wrong is rewarded."""
    tgt = F.softmax((teach + args.margin * labels) / args.tau, dim=-1)
    logq = F.log_softmax(logits, dim=-1)
    kl = (tgt * (torch.log(tgt.clamp_min(1e-12)) - logq)).sum(-1).mean()
    pos = labels / labels.sum(-1, keepdim=True)
    if args.loss == "fusion":
        ce = -(pos * F.log_softmax(fused_scores(logits, signals, args) / args.tau, dim=-1)).sum(-1).mean()
        return ce + args.kl_weight * kl, kl, ce
    ce = -(pos * logq).sum(-1).mean()
    return kl + args.ce_weight * ce, kl, ce


def evaluate(model, groups, corpus, tok, args):
    model.eval()
    rr, rr_fused, kls, t0 = [], [], [], time.time()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for i in range(0, len(groups), 4):
            gb = groups[i:i + 4]
            (ids, am, tt), teach, labels, signals = encode_groups(gb, corpus, tok, args)
            lg = model(input_ids=ids, attention_mask=am, token_type_ids=tt).logits.float().view(len(gb), -1)
            _, kl, _ = group_loss(lg, teach, labels, signals, args)
            kls.append(kl.item() * len(gb))
            fused = fused_scores(lg, signals, args)
            for r in range(len(gb)):
                pos = int(labels[r].argmax())
                rank = 1 + int((lg[r] > lg[r, pos]).sum())
                rr.append(1.0 / rank if rank <= 10 else 0.0)
                rr_fused.append(1.0 / (1 + int((fused[r] > fused[r, pos]).sum())))
    model.train()
    by_style = {}
    for g, x in zip(groups, rr):
        by_style.setdefault(g["style"], []).append(x)
    return {"mrr10": float(np.mean(rr)), "mrr_fused": float(np.mean(rr_fused)), "kl": float(sum(kls) / len(groups)),
            "mrr10_by_style": {s: round(float(np.mean(v)), 4) for s, v in sorted(by_style.items())},
            "groups": len(groups), "seconds": round(time.time() - t0, 1)}


# ---------------------------------------------------------------- checkpoints
def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_ckpt(state, keep=2):
    os.makedirs(RUN["ckpt"], exist_ok=True)
    path = os.path.join(RUN["ckpt"], f"ckpt-step-{state['step']:06d}.pt")
    save_atomic(state, path)
    cks = sorted(glob.glob(os.path.join(RUN["ckpt"], "ckpt-step-*.pt")))
    for old in cks[:-keep]:
        os.remove(old)
    log(f"checkpoint {path}")


def save_eval_snapshot(model, step, metrics):
    from safetensors.torch import save_file
    os.makedirs(RUN["ckpt"], exist_ok=True)
    path = os.path.join(RUN["ckpt"], f"eval-step-{step:06d}.safetensors")
    sd = plain_state_dict(model)
    save_file(sd, path + ".tmp", metadata={"step": str(step), "metrics": json.dumps(metrics)})
    os.replace(path + ".tmp", path)
    with open(os.path.join(RUN["ckpt"], "evals.jsonl"), "a") as f:
        f.write(json.dumps({"step": step, "file": os.path.basename(path), **metrics}) + "\n")
    log(f"eval step {step}: {json.dumps(metrics)} -> {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--time-budget-min", type=float, default=140)
    ap.add_argument("--ckpt-min", type=float, default=10)
    ap.add_argument("--eval-min", type=float, default=30)
    ap.add_argument("--eval-groups", type=int, default=300)
    ap.add_argument("--planned-steps", type=int, default=0,
                    help="0: epochs x train groups / groups-per-step; -1: fit the time budget (measured after "
                         "--auto-measure steps, reserving time for the periodic evaluations)")
    ap.add_argument("--auto-measure", type=int, default=20)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--groups-per-step", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.03)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--margin", type=float, default=3.0)
    ap.add_argument("--tau", type=float, default=1.0)
    ap.add_argument("--ce-weight", type=float, default=0.1)
    ap.add_argument("--max-len", type=int, default=160)
    ap.add_argument("--q-cap", type=int, default=64, help="query token cap, keyword/question styles")
    ap.add_argument("--q-cap-long", type=int, default=96, help="query token cap, long needs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--v0-dir", default=common.V0_DIR)
    ap.add_argument("--verify-tol", type=float, default=1e-3)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in this run (tests)")
    ap.add_argument("--no-eval0", action="store_true")
    ap.add_argument("--run", default="", help="write to train/runs/RUN/{ckpt,train.log} (default: train/ckpt)")
    ap.add_argument("--init-from", default="", help="start from this eval-step-N.safetensors instead of v0")
    ap.add_argument("--mined-dir", default=common.MINED_DIR, help="groups (mine.py, or label_mpnet.py's mined-mpnet)")
    ap.add_argument("--teacher-key", default="teacher", help="member field to distil: teacher, or teacher3 (mpnet)")
    ap.add_argument("--qat", action="store_true", help="fake-quantise the int8-exported weights (per row, STE)")
    ap.add_argument("--loss", choices=["kl", "fusion"], default="kl", help="see group_loss")
    ap.add_argument("--fusion-weight", type=float, default=0.25, help="--loss fusion: the student's weight w")
    ap.add_argument("--kl-weight", type=float, default=0.1, help="--loss fusion: weight of the KL to the teacher")
    args = ap.parse_args()
    if args.run:
        d = os.path.join(common.TRAIN_DIR, "runs", args.run)
        RUN["ckpt"], RUN["log"] = os.path.join(d, "ckpt"), os.path.join(d, "train.log")
        os.makedirs(RUN["ckpt"], exist_ok=True)
    t_start = time.time()
    os.makedirs(common.TRAIN_DIR, exist_ok=True)

    def on_signal(sig, _):
        STOP["flag"], STOP["why"] = True, f"signal {sig}"
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    ckpts = sorted(glob.glob(os.path.join(RUN["ckpt"], "ckpt-step-*.pt")))
    state = None
    if args.resume and ckpts:
        state = torch.load(ckpts[-1], map_location="cpu", weights_only=False)
        saved = state["args"]
        for k in ("lr", "wd", "warmup", "margin", "tau", "ce_weight", "max_len", "q_cap", "q_cap_long",
                  "groups_per_step", "seed", "mined_dir", "teacher_key", "qat", "init_from", "loss", "fusion_weight",
                  "kl_weight"):
            if k in saved:
                setattr(args, k, saved[k])  # keep the run's hyper-parameters
        log(f"resuming from {ckpts[-1]} (step {state['step']})")
    elif args.resume:
        log("--resume: no checkpoint found, starting fresh")
    # the data after the resumed arguments: a run keeps its own mined_dir and teacher_key
    corpus = {r["pid"]: r["text"] for r in common.read_jsonl(os.path.join(args.mined_dir, "corpus.jsonl"))}
    tok = PairTok(os.path.join(args.v0_dir, "tokenizer.json"))
    held = load_groups("heldout", args.mined_dir)[:args.eval_groups]
    train_groups = load_groups("train", args.mined_dir)
    by_qid = {g["qid"]: g for g in train_groups}

    from transformers import BertConfig, BertForSequenceClassification
    if state is None and args.init_from:
        from safetensors.torch import load_file
        model = BertForSequenceClassification(BertConfig.from_pretrained(args.v0_dir))
        missing, unexpected = model.load_state_dict(load_file(args.init_from), strict=False)
        if [k for k in missing + unexpected if not k.endswith("position_ids")]:
            sys.exit(f"--init-from {args.init_from}: missing {missing[:5]}, unexpected {unexpected[:5]}")
        log(f"initialised from {args.init_from}")
    elif state is None:
        model = load_v0(args.v0_dir)
        vpairs = []
        for g in held[:20]:
            m = g["members"][len(vpairs) % len(g["members"])]
            vpairs.append((g["query"], corpus[m["pid"]]))
        verify_against_onnx(model, tok, vpairs, args.v0_dir, args.verify_tol)
    else:
        model = BertForSequenceClassification(BertConfig.from_pretrained(args.v0_dir))
    if args.qat:
        log(f"quantisation-aware: fake int8 on {add_fake_quant(model)} weights")
    if state is not None:
        model.load_state_dict(state["model"])
    model.train()

    gpb = args.groups_per_step
    if state is None:
        epoch_steps = int(math.ceil(args.epochs * len(train_groups) / gpb))
        planned = epoch_steps if args.planned_steps <= 0 else args.planned_steps
        if args.planned_steps < 0:
            planned = min(epoch_steps, 1000)  # provisional; fixed after --auto-measure steps
        epoch, pos, step = 0, 0, 0
        order = [train_groups[i]["qid"] for i in style_mixed_order(train_groups, args.seed, gpb)]
    else:
        planned, epoch, pos, step, order = (state["planned_steps"], state["epoch"], state["pos"],
                                            state["step"], state["order"])
    auto = state is None and args.planned_steps < 0
    plan = {"planned": planned}
    warm = max(1, int(args.warmup * planned)) if state is None else state.get("warmup_steps",
                                                                            max(1, int(args.warmup * planned)))
    nodecay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (plan["planned"] - s) / max(1, plan["planned"] - warm))))
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        random.setstate(state["rng"]["python"])
        np.random.set_state(state["rng"]["numpy"])
        torch.set_rng_state(state["rng"]["torch"])
    else:
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
    log(f"train groups {len(train_groups)}, held-out eval groups {len(held)} (teacher MRR@10 "
        f"{common.group_mrr(held, args.teacher_key):.4f}), planned steps {planned}, warmup {warm}, step {step}, epoch {epoch}, pos {pos}, "
        f"args {json.dumps(vars(args))}")

    def make_state():
        return {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                        "torch": torch.get_rng_state()},
                "step": step, "epoch": epoch, "pos": pos, "order": order, "planned_steps": planned, "warmup_steps": warm,
                "args": vars(args)}

    if state is None and not args.no_eval0:
        save_eval_snapshot(model, 0, evaluate(model, held, corpus, tok, args))
    del state
    last_ckpt = last_eval = time.time()
    budget = args.time_budget_min * 60
    win_t, win_pairs, win_loss, win_kl, steps_this_run = time.time(), 0, 0.0, 0.0, 0
    while step < planned:
        if pos + gpb > len(order):  # next epoch: a fresh style-mixed order over all groups mined so far
            train_groups = load_groups("train", args.mined_dir)
            by_qid = {g["qid"]: g for g in train_groups}
            epoch += 1
            pos = 0
            order = [train_groups[i]["qid"] for i in style_mixed_order(train_groups, args.seed + epoch, gpb)]
            log(f"epoch {epoch}: {len(order)} groups")
        gb = [by_qid[q] for q in order[pos:pos + gpb]]
        (ids, am, tt), teach, labels, signals = encode_groups(gb, corpus, tok, args)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(input_ids=ids, attention_mask=am, token_type_ids=tt).logits
        loss, kl, ce = group_loss(logits.float().view(len(gb), -1), teach, labels, signals, args)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        sched.step()
        step += 1
        pos += gpb
        steps_this_run += 1
        if auto and steps_this_run == 3:
            t_meas = time.time()
        if auto and steps_this_run == 3 + args.auto_measure:
            sps = (time.time() - t_meas) / args.auto_measure
            left = budget - (time.time() - t_start)
            n_evals = int(left // (args.eval_min * 60)) + 1
            eval_s = len(held) * 8 / (gpb * 8 / sps * 3.0)  # inference ~3x faster than a training step
            planned = plan["planned"] = step + max(1, int((left - n_evals * eval_s - 60) / sps))
            auto = False
            log(f"auto plan: {sps:.2f} s/step, {left / 60:.1f} min left, {n_evals} evals of ~{eval_s:.0f}s "
                f"-> planned steps {planned}")
        win_pairs += ids.shape[0]
        win_loss += loss.item()
        win_kl += kl.item()
        if step % 20 == 0:
            dt = time.time() - win_t
            log(f"step {step}/{planned} loss {win_loss / 20:.4f} kl {win_kl / 20:.4f} lr {sched.get_last_lr()[0]:.2e} "
                f"pairs/s {win_pairs / dt:.2f} s/step {dt / 20:.2f} epoch {epoch} pos {pos}")
            win_t, win_pairs, win_loss, win_kl = time.time(), 0, 0.0, 0.0
        now = time.time()
        out_of_time = now - t_start > budget
        done = step >= planned or out_of_time or STOP["flag"] or (args.max_steps and steps_this_run >= args.max_steps)
        if now - last_eval > args.eval_min * 60 or (done and not STOP["flag"]):
            save_eval_snapshot(model, step, evaluate(model, held, corpus, tok, args))
            last_eval = time.time()
        if now - last_ckpt > args.ckpt_min * 60 or done:
            save_ckpt(make_state())
            last_ckpt = time.time()
        if done:
            why = STOP["why"] or ("time budget" if out_of_time else "planned steps" if step >= planned else "max steps")
            log(f"stopping at step {step}: {why}")
            break
    log("train.py exit")


if __name__ == "__main__":
    main()
