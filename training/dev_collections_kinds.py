#!/usr/bin/env python3
"""Convert small public test collections of other kinds than the classic library/science abstracts
into BEIR layout (the layout of ../shared/data/cacm).

    python3 training/dev_collections_kinds.py \
        /work/.mirror/ML-Recipes+BERT-FAQ/repo \
        /work/.mirror/conala-corpus+conala-corpus.github.io/repo \
        /work/.mirror/diyessi+Iyas/repo \
        /work/.mirror/cchang-vassar+Semantic-Relations-in-Vector-Embeddings/repo \
        [--out ~/.cache/minirank/data] [--only stackfaq,conala,qatarliving,arguana]

    python3 training/dev_collections_kinds.py --kinds-for-classic [--out ~/.cache/minirank/data]

Each positional argument is a bare git directory (a mirror of a public GitHub repository, as `fetch`
leaves it under /work/.mirror/owner+name/repo); which collection it feeds is recognised from the
repository name in the path (or give it explicitly with --stackfaq/--conala/--qatarliving/--arguana).
Files are read at a pinned commit with `git cat-file` (the same bytes as `git show COMMIT:path`);
nothing is copied into this repository. Output: OUT/<name>/{corpus.jsonl, queries.jsonl, qrels/test.tsv,
collection.json, SOURCE.json}, plus OUT/dev_collections_kinds.json with the statistics of all of them.

Collections (provenance, licences and decisions in training/DEV.md, "Collections of other kinds"):
  stackfaq     question -> FAQ answer passage. StackExchange (web applications) FAQ set of Karan & Snajder
               (2018): 125 threads, 719 answers; user rephrasings of each thread's question are the
               queries (1,249, a fixed random subset of 400 with seed 0), every answer of the thread is
               relevant. Documents are answers, titled with the thread question.
  conala       natural language -> code. CoNaLa v1.0 curated annotations: queries are the Stack Overflow
               question titles ("intent") of the 500 test examples, grouped by question; documents are the
               distinct code snippets of train + test (2,563 examples); relevant = every snippet written
               for that question.
  qatarliving  duplicate / related forum questions. SemEval-2016 Task 3 subtask B (Qatar Living forum),
               training part 1: original question -> its 10 search-engine candidates, judged PerfectMatch
               (2) / Relevant (1) / Irrelevant; the corpus is the union of all candidates.
  arguana      argument -> best counterargument. ArguAna counterargs corpus (idebate.org), test split:
               a point is the query, its own counter is the one relevant document; the corpus is every
               counter of the split plus the points that are not queries.
Only queries with at least one relevant document are written. Only stdlib is used; deterministic.
"""
import argparse, collections, json, os, pathlib, random, re, subprocess, sys, zipfile, io
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dev_collections import write_beir  # noqa: E402

MAX_QUERIES = 400
SEED = 0

SOURCES = {
    "stackfaq": {
        "repo": "ML-Recipes/BERT-FAQ", "commit": "3c184030c1819b462e29f665465ab4968657440e",
        "path": "data/StackFAQ/stackExchange-FAQ.xml",
        "kind": "question -> FAQ answer passage",
        "licence": "repository MIT (LICENSE, (c) 2021 ML-Recipes); the StackFAQ data is TakeLab's (Karan & Snajder 2018, "
                   "cite on use, data/StackFAQ/README.txt); answer texts are StackExchange posts (CC BY-SA)",
    },
    "conala": {
        "repo": "conala-corpus/conala-corpus.github.io", "commit": "1c4cfe1e21ba3081f03f535adefba91e4efd644b",
        "path": "conala_annotations.zip:examples.annotated.{train,test}.json",
        "kind": "natural language -> code snippet",
        "licence": "no licence file in the repository (CMU CoNaLa, Yin et al. MSR 2018, cite on use); intents and "
                   "snippets derive from Stack Overflow posts (CC BY-SA)",
    },
    "qatarliving": {
        "repo": "diyessi/Iyas", "commit": "83ac4ef9347e40d31cbb8a5689e56d1cc643c6a8",
        "path": "semeval2016-3/data/Semeval2016-Task3-English-data/datasets/semeval2016-task3-cqa-ql-train/v2.0/"
                "SemEval2016-Task3-CQA-QL-train-part1.xml",
        "kind": "forum question -> duplicate/related questions",
        "licence": "SemEval-2016 Task 3 CQA-QL corpus: 'free for general research use', cite Nakov et al. (README.txt "
                   "next to the file); the Iyas LICENSE (Apache-2.0) covers its code directories only",
    },
    "arguana": {
        "repo": "cchang-vassar/Semantic-Relations-in-Vector-Embeddings",
        "commit": "0adbf68360c0eff4be408baa0a94cc798cd67d71",
        "path": "arguana-counterargs-corpus/02-extracted-arguments/test/",
        "kind": "argument -> counterargument",
        "licence": "no licence file in the repository; ArguAna counterargs corpus (Wachsmuth, Syed & Stein, ACL 2018, "
                   "cite on use, arguana-counterargs-readme.txt), texts from idebate.org",
    },
}
# repository-name fragments used to recognise a positional git dir
RECOGNISE = {"BERT-FAQ": "stackfaq", "conala-corpus": "conala", "Iyas": "qatarliving",
             "Semantic-Relations-in-Vector-Embeddings": "arguana"}

CLASSIC_KIND = "classic library/science abstracts"


class Git:
    """Reads blobs of one commit of a bare git dir through a single `git cat-file --batch` process."""

    def __init__(self, gitdir, commit):
        self.gitdir, self.commit = gitdir, commit
        self.p = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ls(self, prefix):
        out = subprocess.run(["git", "--git-dir", self.gitdir, "ls-tree", "-r", "--name-only", self.commit, prefix],
                             check=True, capture_output=True).stdout.decode("utf-8")
        return sorted(l for l in out.split("\n") if l)

    def read_bytes(self, path):
        self.p.stdin.write(f"{self.commit}:{path}\n".encode("utf-8"))
        self.p.stdin.flush()
        header = self.p.stdout.readline().decode("utf-8").split()
        if len(header) < 3 or header[1] != "blob":
            raise SystemExit(f"{self.gitdir}: {self.commit}:{path} is not available ({' '.join(header)})")
        n = int(header[2])
        data = self.p.stdout.read(n)
        self.p.stdout.read(1)  # trailing newline
        return data

    def read(self, path):
        return self.read_bytes(path).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def clean(s):
    return re.sub(r"\s+", " ", s or "").strip()


def subsample(ids, n=MAX_QUERIES, seed=SEED):
    """A fixed random subset (seed 0) of at most n ids, kept in their original order."""
    if len(ids) <= n:
        return list(ids)
    keep = set(random.Random(seed).sample(sorted(ids), n))
    return [i for i in ids if i in keep]


def join_title(title, body):
    title, body = clean(title), clean(body)
    if not title:
        return body
    if not body:
        return title
    return title + ("" if title[-1] in ".?!:;" else ".") + " " + body


# ----------------------------------------------------------------------------------------------------------
def stackfaq(g):
    root = ET.fromstring(g.read_bytes(SOURCES["stackfaq"]["path"]))
    docs, queries, qrels = [], [], {}
    for i, pair in enumerate(root.findall("qapair"), 1):
        question = clean(pair.findtext("question"))
        answers = [clean(a.text) for a in pair.findall("answer")]
        ids = []
        for j, a in enumerate(answers, 1):
            if a:
                ids.append(f"t{i:03d}a{j:02d}")
                docs.append((ids[-1], question, a))
        k = 0
        for r in pair.findall("rephr"):
            r = clean(r.text)
            if not r or r == "*":  # '*' marks the slot of the original question
                continue
            k += 1
            qid = f"t{i:03d}r{k:02d}"
            queries.append((qid, r))
            qrels[qid] = {d: 1 for d in ids}
    total = len(queries)
    keep = set(subsample([q for q, _ in queries]))
    queries = [(q, t) for q, t in queries if q in keep]
    note = f"{total} rephrasings, fixed random subset of {len(queries)} (seed {SEED})"
    return docs, queries, qrels, note


def conala(g):
    z = zipfile.ZipFile(io.BytesIO(g.read_bytes("conala_annotations.zip")))
    train = json.loads(z.read("examples.annotated.train.json"))
    test = json.loads(z.read("examples.annotated.test.json"))
    doc_of_snippet, docs = {}, []
    snippets_of_question = collections.defaultdict(set)
    for ex in train + test:
        s = ex["snippet"].strip()
        if not s:
            continue
        if s not in doc_of_snippet:
            doc_of_snippet[s] = f"s{len(docs) + 1:04d}"
            docs.append((doc_of_snippet[s], "", s))
        snippets_of_question[ex["question_id"]].add(doc_of_snippet[s])
    queries, seen = [], set()
    for ex in test:  # one query per Stack Overflow question of the test split, text = its title
        q = ex["question_id"]
        if q in seen:
            continue
        seen.add(q)
        queries.append((str(q), clean(ex["intent"])))
    qrels = {str(q): {d: 1 for d in snippets_of_question[q]} for q in seen}
    total = len(queries)
    keep = set(subsample([q for q, _ in queries]))
    queries = [(q, t) for q, t in queries if q in keep]
    note = (f"{len(train)} + {len(test)} examples -> {len(docs)} distinct snippets; {total} test questions"
            + (f", fixed random subset of {len(queries)} (seed {SEED})" if len(queries) < total else ""))
    return docs, queries, qrels, note


def qatarliving(g):
    root = ET.fromstring(g.read_bytes(SOURCES["qatarliving"]["path"]))
    grade = {"PerfectMatch": 2, "Relevant": 1, "Irrelevant": 0}
    qtext, qorder, qrels = {}, [], collections.defaultdict(dict)
    doc_of_text, docs = {}, []
    for org in root.iter("OrgQuestion"):
        oid = org.get("ORGQ_ID")
        if oid not in qtext:
            qtext[oid] = join_title(org.findtext("OrgQSubject"), org.findtext("OrgQBody"))
            qorder.append(oid)
        for rel in org.iter("RelQuestion"):
            title, body = clean(rel.findtext("RelQSubject")), clean(rel.findtext("RelQBody"))
            key = (title, body)
            if key not in doc_of_text:  # the same forum question can be a candidate of several queries
                doc_of_text[key] = rel.get("RELQ_ID")
                docs.append((rel.get("RELQ_ID"), title, body))
            d = doc_of_text[key]
            gr = grade[rel.get("RELQ_RELEVANCE2ORGQ")]
            qrels[oid][d] = max(gr, qrels[oid].get(d, 0))
    queries = [(q, qtext[q]) for q in qorder]
    note = f"{len(queries)} original questions, {sum(len(r) for r in qrels.values())} judged candidates"
    return docs, queries, dict(qrels), note


def arguana(g):
    base = SOURCES["arguana"]["path"]
    files = [p for p in g.ls(base) if p.endswith("-point.txt") or p.endswith("-counter.txt")]
    points, counters = {}, {}
    for p in files:
        # .../test/<theme>/<debate>/<pro|con>/<pro|con>NNa-point.txt | ...NNb-counter.txt
        theme, debate, _, fname = p[len(base):].split("/")
        m = re.match(r"^((?:pro|con)\d+)([ab])-(point|counter)\.txt$", fname)
        key = f"{debate}/{m.group(1)}"
        text = g.read(p).strip()
        if m.group(3) == "point":
            title, _, body = text.partition("\n")
            points[key] = (clean(title), clean(body))
        else:
            counters[key] = clean(text)
    # compact ids: d<index of the debate slug in sorted order>-<pro|con>NN; a debate listed under several
    # themes is stored once per theme with identical files, the key (slug, argument) merges the copies
    slugs = {s: n for n, s in enumerate(sorted({k.split("/")[0] for k in list(points) + list(counters)}), 1)}
    short = lambda k: "d%04d-%s" % (slugs[k.split("/")[0]], k.split("/")[1])
    points = {short(k): v for k, v in points.items()}
    counters = {short(k): v for k, v in counters.items()}
    with_counter = [k for k in sorted(points) if counters.get(k)]
    qkeys = subsample(with_counter)
    qset = set(qkeys)
    docs = [(f"{k}b", "", counters[k]) for k in sorted(counters) if counters[k]]
    docs += [(f"{k}a", t, b) for k, (t, b) in sorted(points.items()) if k not in qset]
    queries = [(f"{k}a", join_title(*points[k])) for k in qkeys]
    qrels = {f"{k}a": {f"{k}b": 1} for k in qkeys}
    note = (f"test split: {len(points)} points, {len(counters)} counters; {len(with_counter)} points with a "
            f"counter, fixed random subset of {len(qkeys)} (seed {SEED}) are the queries; the other points are documents")
    return docs, queries, qrels, note


CONVERTERS = {"stackfaq": stackfaq, "conala": conala, "qatarliving": qatarliving, "arguana": arguana}


# ----------------------------------------------------------------------------------------------------------
def words(s):
    return len(s.split())


def write(outdir, name, docs, queries, qrels, note, src):
    d = pathlib.Path(outdir) / name
    (d / "qrels").mkdir(parents=True, exist_ok=True)
    docs = [(i, t, x) for i, t, x in docs if (t or x)]
    doc_ids = {i for i, _, _ in docs}
    assert len(doc_ids) == len(docs), f"{name}: duplicate document ids"
    assert all("\t" not in i and "\n" not in i for i in doc_ids)
    qrels = {q: {d_: gr for d_, gr in r.items() if d_ in doc_ids and gr > 0} for q, r in qrels.items()}
    qtext = {q: t for q, t in queries if t}
    judged = [q for q, _ in queries if qrels.get(q) and q in qtext]
    assert len(set(judged)) == len(judged), f"{name}: duplicate query ids"
    npairs = write_beir(d, docs, judged, qtext, qrels)
    graded = any(gr > 1 for q in judged for gr in qrels[q].values())
    qlen = [words(qtext[q]) for q in judged]
    dlen = [words(t + " " + x) for _, t, x in docs]
    relevant = {d_ for q in judged for d_ in qrels[q]}
    stats = {"name": name, "kind": src["kind"], "documents": len(docs), "queries_total": len(queries),
             "queries_judged": len(judged), "qrels": npairs, "graded": graded,
             "rel_per_query": round(npairs / max(1, len(judged)), 2),
             "query_words_mean": round(sum(qlen) / max(1, len(qlen)), 1),
             "doc_words_mean": round(sum(dlen) / max(1, len(dlen)), 1), "corpus_words": sum(dlen),
             "documents_relevant_to_none": len(doc_ids - relevant),
             "source": f"github.com/{src['repo']}", "commit": src["commit"], "path": src["path"],
             "licence": src["licence"], "note": note}
    (d / "SOURCE.json").write_text(json.dumps(stats, indent=2) + "\n")
    (d / "collection.json").write_text(json.dumps(
        {"name": name, "kind": src["kind"], "source": f"github.com/{src['repo']}:{src['path']}",
         "commit": src["commit"], "licence": src["licence"], "documents": len(docs), "queries": len(judged)},
        indent=2) + "\n")
    print(f"{name:11s} docs {len(docs):5d}  queries {len(judged):4d}/{len(queries):4d}  qrels {npairs:5d} "
          f"({stats['rel_per_query']}/q)  query words {stats['query_words_mean']:5.1f}  doc words "
          f"{stats['doc_words_mean']:6.1f}  corpus words {sum(dlen):8d}  [{note}]")
    return stats


def kinds_for_classic(out):
    """collection.json for the five classic collections written by dev_collections.py (reads their SOURCE.json)."""
    for name in ("cisi", "lisa", "cran", "npl", "med"):
        d = pathlib.Path(out) / name
        s = d / "SOURCE.json"
        if not s.exists():
            print(f"{name}: {s} missing, run dev_collections.py first", file=sys.stderr)
            continue
        m = json.loads(s.read_text())
        (d / "collection.json").write_text(json.dumps(
            {"name": name, "kind": CLASSIC_KIND, "source": f"{m['source']}:{m['path']}", "commit": m["commit"],
             "licence": m["licence"], "documents": m["documents"], "queries": m["queries_judged"]}, indent=2) + "\n")
        print(f"{name}: collection.json ({m['documents']} documents, {m['queries_judged']} queries)")


SHARED_KINDS = {"cacm": CLASSIC_KIND, "scifact": "scientific claim -> evidence abstract"}


def link_shared(out, shared):
    """OUT/cacm and OUT/scifact: the read-only ../shared/data collections linked file by file, with
    a collection.json naming their kind (shared/ itself cannot be written)."""
    for name, kind in SHARED_KINDS.items():
        src = pathlib.Path(shared) / name
        if not (src / "corpus.jsonl").exists():
            print(f"{name}: {src} missing, skipped", file=sys.stderr)
            continue
        d = pathlib.Path(out) / name
        (d / "qrels").mkdir(parents=True, exist_ok=True)
        for f in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
            (d / f).unlink(missing_ok=True)
            (d / f).symlink_to((src / f).resolve())
        (d / "collection.json").write_text(json.dumps({"name": name, "kind": kind, "source": f"../shared/data/{name}"}, indent=2) + "\n")
        print(f"{name}: linked from {src}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gitdirs", nargs="*", help="bare git dirs; the collection is recognised from the repository name")
    for name in CONVERTERS:
        ap.add_argument(f"--{name}", metavar="GITDIR", help=f"bare git dir of github.com/{SOURCES[name]['repo']}")
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/minirank/data"))
    ap.add_argument("--only", default=",".join(CONVERTERS), help="comma-separated collection names")
    ap.add_argument("--kinds-for-classic", action="store_true",
                    help=f"write collection.json (kind '{CLASSIC_KIND}') for cisi, lisa, cran, npl, med")
    ap.add_argument("--shared", metavar="DIR", help="link DIR/cacm and DIR/scifact (../shared/data) into OUT with their kind")
    a = ap.parse_args()
    if a.shared:
        link_shared(a.out, a.shared)
    if a.kinds_for_classic:
        kinds_for_classic(a.out)
    if (a.kinds_for_classic or a.shared) and not a.gitdirs and not any(getattr(a, n) for n in CONVERTERS):
        return
    dirs = {n: getattr(a, n) for n in CONVERTERS if getattr(a, n)}
    for gd in a.gitdirs:
        hit = [n for frag, n in RECOGNISE.items() if frag.lower() in gd.lower()]
        if len(hit) != 1:
            raise SystemExit(f"cannot tell which collection {gd} is for; use --stackfaq/--conala/--qatarliving/--arguana")
        dirs.setdefault(hit[0], gd)
    allstats = []
    for name in a.only.split(","):
        if name not in dirs:
            print(f"{name}: no git dir given (github.com/{SOURCES[name]['repo']}), skipped", file=sys.stderr)
            continue
        src = SOURCES[name]
        g = Git(dirs[name], src["commit"])
        docs, queries, qrels, note = CONVERTERS[name](g)
        g.close()
        allstats.append(write(a.out, name, docs, queries, qrels, note, src))
    if allstats:
        p = pathlib.Path(a.out) / "dev_collections_kinds.json"
        old = {s["name"]: s for s in json.loads(p.read_text())} if p.exists() else {}
        old.update({s["name"]: s for s in allstats})
        p.write_text(json.dumps([old[k] for k in sorted(old)], indent=2) + "\n")


if __name__ == "__main__":
    main()
