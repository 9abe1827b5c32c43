// The minirank demo: everything runs in a Web Worker in this page; documents are shown as text only.
import { MinirankWorker } from '../pkg/worker.js';

const $ = (id) => document.getElementById(id);
const QUESTIONS_URL = '../tests/fixtures/seed000_questions.json';
const SEED_URL = '../tests/fixtures/seed000.jsonl';

let mr = null;
let seedDocs = [];
const texts = new Map(); // id -> text, for display

function setStatus(text, loaded = 0, total = 0) {
  $('status').textContent = text;
  $('progress').max = total || 1;
  $('progress').value = total ? loaded : 0;
}

function showError(e) {
  const box = $('error');
  box.hidden = false;
  box.textContent = `${e && e.code ? e.code + ': ' : ''}${e && e.message ? e.message : e}`;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function parseDocs(raw) {
  const lines = raw.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.map((line, i) => {
    if (line.startsWith('{')) {
      const o = JSON.parse(line);
      const { id, _id, text, title, ...rest } = o;
      const body = [title, text].filter((x) => typeof x === 'string' && x.trim()).join(' ');
      const doc = { id: String(id ?? _id ?? i + 1), text: body };
      if (Object.keys(rest).length) doc.metadata = rest;
      return doc;
    }
    return { id: String(i + 1), text: line };
  });
}

async function indexDocs(docs) {
  clearError();
  await mr.clear();
  texts.clear();
  for (const d of docs) texts.set(d.id, d.text);
  const t0 = performance.now();
  await mr.index(docs, { onProgress: ({ loaded, total }) => setStatus(`Indexing ${loaded}/${total} documents…`, loaded, total) });
  const ms = performance.now() - t0;
  setStatus(`Ready: ${mr.size} documents indexed in ${(ms / 1000).toFixed(2)} s.`, 1, 1);
  $('doc-count').textContent = `(${mr.size} indexed)`;
}

function li(parts) {
  const item = document.createElement('li');
  for (const [cls, text] of parts) {
    const span = document.createElement('span');
    if (cls) span.className = cls;
    span.textContent = text;
    item.append(span);
  }
  return item;
}

function render(query, candidates, reranked, t1, t2, threshold) {
  $('results').hidden = false;
  $('timings').textContent = `“${query}” — stage 1 (embed query + search ${mr.size} vectors): ${t1.toFixed(1)} ms; ` +
    `stage 2 (cross-encoder on ${candidates.length} pairs, ${reranked.cacheHits} from cache): ${t2.toFixed(1)} ms.`;
  const s1 = $('stage1');
  s1.replaceChildren(...candidates.map((c) => li([['score', `[cos ${c.score.toFixed(3)}] `], ['id', c.id], [null, ` — ${c.text}`]])));
  const s2 = $('stage2');
  s2.replaceChildren(...reranked.hits.map((h) => {
    const moved = h.originalRank - h.rank;
    const [cls, arrow] = moved > 0 ? ['up', `↑${moved}`] : moved < 0 ? ['down', `↓${-moved}`] : ['same', '='];
    return li([['score', `[score ${h.score.toFixed(4)} · logit ${h.logit.toFixed(2)}] `], [cls, `${arrow} (was #${h.originalRank}) `],
      ['id', h.id], [null, ` — ${h.text}`]]);
  }));
  const warn = $('no-answer');
  if (reranked.noConfidentAnswer) {
    warn.hidden = false;
    warn.textContent = `No confident answer: the best candidate scores ${reranked.bestScore.toFixed(4)}, below the threshold ${threshold.toFixed(2)}.`;
  } else {
    warn.hidden = true;
  }
}

async function search(query) {
  if (!query.trim()) return;
  clearError();
  const candidates = Number($('candidates').value);
  const topK = Number($('topk').value);
  const threshold = Number($('threshold').value);
  try {
    const t0 = performance.now();
    const cands = await mr.retrieve(query, { k: candidates });
    const t1 = performance.now();
    const reranked = await mr.rerank(query, cands, { topK, minScore: threshold > 0 ? threshold : undefined });
    const t2 = performance.now();
    render(query, cands, reranked, t1 - t0, t2 - t1, threshold);
  } catch (e) {
    showError(e);
  }
}

function enable(on) {
  for (const id of ['query', 'search-btn', 'index-btn', 'reset-btn']) $(id).disabled = !on;
}

async function main() {
  $('threshold').addEventListener('input', () => { $('threshold-out').textContent = Number($('threshold').value).toFixed(2); });
  $('search-form').addEventListener('submit', (e) => { e.preventDefault(); search($('query').value); });
  $('docs-file').addEventListener('change', async () => {
    const f = $('docs-file').files[0];
    if (f) $('docs-input').value = await f.text();
  });
  $('index-btn').addEventListener('click', async () => {
    enable(false);
    try {
      const docs = parseDocs($('docs-input').value);
      if (!docs.length) throw new Error('paste or choose some documents first');
      await indexDocs(docs);
    } catch (e) { showError(e); } finally { enable(true); }
  });
  $('reset-btn').addEventListener('click', async () => {
    enable(false);
    try { await indexDocs(seedDocs); } catch (e) { showError(e); } finally { enable(true); }
  });

  const [questions, seedText] = await Promise.all([
    fetch(QUESTIONS_URL).then((r) => r.json()),
    fetch(SEED_URL).then((r) => r.text()),
  ]);
  seedDocs = parseDocs(seedText);
  for (const q of questions.questions) {
    const b = document.createElement('button');
    b.className = 'example';
    b.type = 'button';
    b.textContent = q;
    b.addEventListener('click', () => { $('query').value = q; search(q); });
    $('examples').append(b);
  }

  setStatus('Loading models…');
  mr = await MinirankWorker.load({
    onProgress: ({ stage, loaded, total }) => {
      if (stage === 'compile') setStatus('Compiling models…', loaded, total);
      else setStatus(`Loading ${stage} (${(loaded / 1e6).toFixed(1)}${total ? ' / ' + (total / 1e6).toFixed(1) : ''} MB)…`, loaded, total);
    },
  });
  await indexDocs(seedDocs);
  enable(true);
  document.body.dataset.ready = 'true';
}

main().catch((e) => { showError(e); setStatus('Failed to start.'); });
