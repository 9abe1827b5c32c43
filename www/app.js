// The minirank demo: everything runs in a Web Worker in this page; documents are shown as text only.
// The index is saved to IndexedDB after indexing and restored on reload (no re-embedding). Searches
// are progressive: the fused answer (bi-encoder + BM25) shows at once, the reranked one replaces it
// when the cross-encoder has scored the candidates; typing searches as you type, each keystroke's
// query aborting the last one's rerank. The page answers before the cross-encoder has loaded. A
// service worker (sw.js) keeps the page, the package and the models: after one visit the demo works
// offline.

import { deleteIndexFromIndexedDB, loadIndexFromIndexedDB, saveIndexToIndexedDB } from '../pkg/minirank.js';
import { MinirankWorker } from '../pkg/worker.js';

const $ = (id) => document.getElementById(id);
const QUESTIONS_URL = '../tests/fixtures/seed000_questions.json';
const SEED_URL = '../tests/fixtures/seed000.jsonl';
const METADATA_URL = 'demo-metadata.json';
const IDB = { key: 'demo' };
const AUTHORITY = { 'python-docs': 1.0, 'project-docs': 0.7, blog: 0.4, forum: 0.2 };

let mr = null;
let seedDocs = [];

function setStatus(text, loaded = 0, total = 0) {
  $('status').textContent = text;
  $('progress').max = total || 1;
  $('progress').value = total ? loaded : 0;
}

function showError(e) {
  const box = $('error');
  box.hidden = false;
  box.textContent = `${e && e.code ? `${e.code}: ` : ''}${e && e.message ? e.message : e}`;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function parseDocs(raw) {
  const lines = raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
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

async function persist() {
  try {
    const saved = await saveIndexToIndexedDB(mr, IDB);
    $('persist').textContent =
      `Index saved to IndexedDB (${(saved.bytes / 1024).toFixed(0)} KB, ${saved.documents} entries): a reload restores it without embedding again.`;
  } catch (e) {
    $('persist').textContent = `Not saved to IndexedDB: ${e.message}`;
  }
}

async function indexDocs(docs) {
  clearError();
  await mr.clear();
  await mr.setChunking($('chunk').checked ? { maxTokens: 200, overlapSentences: 1 } : null);
  const t0 = performance.now();
  await mr.index(docs, { onProgress: ({ loaded, total }) => setStatus(`Indexing ${loaded}/${total} documents…`, loaded, total) });
  const ms = performance.now() - t0;
  setStatus(`Ready: ${mr.size} documents indexed in ${(ms / 1000).toFixed(2)} s.`, 1, 1);
  $('doc-count').textContent = `(${mr.size} indexed)`;
  await persist();
}

/** Restore the last index from IndexedDB; false when there is none or it is unusable. */
async function restore() {
  try {
    const t0 = performance.now();
    const r = await loadIndexFromIndexedDB(mr, IDB);
    if (!r) return false;
    const ms = performance.now() - t0;
    setStatus(
      `Ready: restored ${r.documents} documents from IndexedDB in ${ms.toFixed(0)} ms (saved ${new Date(r.savedAt).toLocaleString()}), nothing re-embedded.`,
      1,
      1,
    );
    $('doc-count').textContent = `(${mr.size} indexed, restored)`;
    $('persist').textContent = 'Index restored from IndexedDB.';
    return true;
  } catch (e) {
    $('persist').textContent = `The saved index was refused (${e.code || 'Error'}: ${e.message}); indexing again.`;
    await deleteIndexFromIndexedDB(IDB).catch(() => {});
    return false;
  }
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

const SCORE_NAME = { dense: 'cos', bm25: 'bm25', hybrid: 'rrf' };

function componentsText(c) {
  const parts = [`relevance ${c.relevance.toFixed(3)}`];
  if (c.freshness !== undefined) parts.push(`freshness ${c.freshness.toFixed(3)}`);
  if (c.authority !== undefined) parts.push(`authority ${c.authority.toFixed(2)}`);
  if (c.redundancy !== undefined) parts.push(`redundancy ${c.redundancy.toFixed(3)}`);
  return `${parts.join(' · ')} → final ${c.final.toFixed(3)}`;
}

const signed = (x) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2);

/** A hit's fused score and where it comes from: each signal's raw value and its share. */
function fusionText(h) {
  const c = h.contributions;
  const cos = h.dense === null ? '' : `cos ${h.dense.toFixed(3)} (${signed(c.dense)}) · `;
  const bm25 = h.bm25 === null ? '' : `bm25 ${h.bm25.toFixed(1)} (${signed(c.bm25)}) · `;
  // the fused answer has no cross-encoder logit yet
  const ce = h.logit === undefined ? 'cross-encoder scoring…' : `logit ${h.logit.toFixed(2)} (${signed(c.crossEncoder)}) · score ${h.score.toFixed(3)}`;
  return `fused ${h.fused.toFixed(2)} = ${cos}${bm25}${ce}`;
}

/** Show a search's answer: the fused one (`stage: 'fused'`), then the reranked one. */
function render(query, options, result, ms, threshold, firstMs) {
  const { candidates } = result;
  const fused = result.stage === 'fused';
  $('results').hidden = false;
  $('stage1-name').textContent = { dense: 'bi-encoder', bm25: 'BM25', hybrid: 'hybrid' }[options.retrieval];
  $('stage2-name').textContent = fused ? 'fused bi-encoder + BM25 score (the cross-encoder is scoring)' : 'reranked by the fused score';
  const cascade = result.cascade ? `; cascade kept ${result.cascade.map((s) => s.length).join(' → ')}` : '';
  const stage1 = `“${query}” — stage 1 (${options.retrieval} over ${mr.size} documents): ${candidates.length} candidates${cascade}; `;
  $('timings').textContent = fused
    ? `${stage1}fused answer in ${ms.toFixed(1)} ms; stage 2 (cross-encoder) running…`
    : `${stage1}stage 2 (cross-encoder on ${result.scored + result.cacheHits} pairs, ${result.cacheHits} from cache); ${ms.toFixed(1)} ms in all (first answer in ${firstMs.toFixed(1)} ms).`;
  if ($('f-bm25-auto').checked) $('f-bm25-out').textContent = `auto: ${result.weights.bm25.toFixed(2)}`;
  const label = SCORE_NAME[options.retrieval];
  $('stage1').replaceChildren(
    ...candidates.map((c) =>
      li([
        ['score', `[${label} ${c.score.toFixed(3)}] `],
        ['id', c.id],
        [null, ` — ${c.text}`],
      ]),
    ),
  );
  $('stage2').replaceChildren(
    ...result.hits.map((h) => {
      const moved = h.originalRank - h.rank;
      const [cls, arrow] = moved > 0 ? ['up', `↑${moved}`] : moved < 0 ? ['down', `↓${-moved}`] : ['same', '='];
      const parts = [
        ['score', `[${fusionText(h)}] `],
        [cls, `${arrow} (was #${h.originalRank}) `],
        ['id', h.id],
        [null, ` — ${h.text}`],
      ];
      if (h.passages) parts.push(['score', ` (${h.passages.length} passage${h.passages.length > 1 ? 's' : ''})`]);
      if (h.components) parts.push(['components', componentsText(h.components)]);
      return li(parts);
    }),
  );
  const warn = $('no-answer');
  if (!fused && result.noConfidentAnswer) {
    warn.hidden = false;
    warn.textContent = `No confident answer: the best candidate scores ${result.bestScore.toFixed(4)}, below the threshold ${threshold.toFixed(2)}.`;
  } else {
    warn.hidden = true;
  }
  document.body.dataset.stage = result.stage;
}

const weight = (id) => Number($(id).value);

/** The search options the controls describe. */
function searchOptions() {
  const threshold = weight('threshold');
  const options = {
    retrieval: $('retrieval').value,
    candidates: Number($('candidates').value),
    topK: Number($('topk').value),
    minScore: threshold > 0 ? threshold : undefined,
    // left out, the BM25 weight is chosen per query by its length
    fusion: { dense: weight('f-dense'), crossEncoder: weight('f-ce'), ...($('f-bm25-auto').checked ? {} : { bm25: weight('f-bm25') }) },
  };
  if ($('cascade').value) options.cascade = [{ scorer: 'dense', keep: Number($('cascade').value) }];
  if ($('parents').checked) options.parents = 'max';
  const [r, f, a, d] = ['w-relevance', 'w-freshness', 'w-authority', 'w-diversity'].map(weight);
  if (r !== 1 || f > 0 || a > 0 || d > 0) {
    options.signals = { relevance: r };
    if (f > 0) options.signals.freshness = { field: 'updatedAt', halfLifeDays: 365, weight: f };
    if (a > 0) options.signals.authority = { field: 'source', weights: AUTHORITY, default: 0.3, weight: a };
    if (d > 0) options.signals.diversity = { weight: d };
  }
  return options;
}

async function search(query) {
  if (!query.trim()) return;
  clearError();
  document.body.dataset.stage = 'searching';
  try {
    const options = searchOptions();
    const t0 = performance.now();
    let firstMs = 0;
    await mr.search(query, {
      ...options,
      // a newer search (the next keystroke) aborts this one's rerank; its answer is then not shown
      onStage: (result) => {
        const ms = performance.now() - t0;
        if (result.stage === 'fused') firstMs = ms;
        render(query, options, result, ms, weight('threshold'), firstMs);
      },
    });
  } catch (e) {
    if (e && e.code === 'Aborted') return;
    showError(e);
  }
}

function enable(on) {
  for (const id of ['query', 'search-btn', 'index-btn', 'reset-btn', 'forget-btn']) $(id).disabled = !on;
}

/**
 * The service worker, scope '/': it must also control the worker that runs /pkg/worker-entry.js.
 * On the first visit, wait until it has precached everything and controls the page, so that the
 * models are downloaded once (by it) and the worker started next loads them from its cache. Goes on
 * without it if it cannot be registered or its install fails.
 */
async function serviceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.register('sw.js', { type: 'module', scope: '/' });
    if (navigator.serviceWorker.controller) return;
    const installing = registration.installing || registration.waiting;
    if (!installing) return;
    setStatus('Saving the page, the package and the models for offline use…');
    $('progress').removeAttribute('value');
    await new Promise((resolve) => {
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
      installing.addEventListener('statechange', () => installing.state === 'redundant' && resolve());
    });
  } catch (e) {
    $('persist').textContent = `No offline copy: the service worker could not be registered (${e.message}).`;
  }
}

async function main() {
  $('threshold').addEventListener('input', () => {
    $('threshold-out').textContent = Number($('threshold').value).toFixed(2);
  });
  $('f-bm25-auto').addEventListener('change', () => {
    const auto = $('f-bm25-auto').checked;
    $('f-bm25').disabled = auto;
    $('f-bm25-out').textContent = auto ? 'auto' : Number($('f-bm25').value).toFixed(2);
  });
  for (const input of document.querySelectorAll('#signals input, #fusion input[type=range]')) {
    input.addEventListener('input', () => {
      input.nextElementSibling.textContent = Number(input.value).toFixed(2);
    });
  }
  $('forget-btn').addEventListener('click', async () => {
    try {
      const had = await deleteIndexFromIndexedDB(IDB);
      $('persist').textContent = had ? 'The saved index was deleted from IndexedDB.' : 'No index was saved.';
    } catch (e) {
      showError(e);
    }
  });
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search($('query').value);
  });
  $('query').addEventListener('input', () => search($('query').value));
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
    } catch (e) {
      showError(e);
    } finally {
      enable(true);
    }
  });
  $('reset-btn').addEventListener('click', async () => {
    enable(false);
    try {
      await indexDocs(seedDocs);
    } catch (e) {
      showError(e);
    } finally {
      enable(true);
    }
  });

  const [questions, seedText, demoMeta] = await Promise.all([
    fetch(QUESTIONS_URL).then((r) => r.json()),
    fetch(SEED_URL).then((r) => r.text()),
    fetch(METADATA_URL).then((r) => r.json()),
  ]);
  seedDocs = parseDocs(seedText).map((d) => ({ ...d, metadata: { ...(d.metadata || {}), ...(demoMeta.documents[d.id] || {}) } }));
  for (const q of questions.questions) {
    const b = document.createElement('button');
    b.className = 'example';
    b.type = 'button';
    b.textContent = q;
    b.addEventListener('click', () => {
      $('query').value = q;
      search(q);
    });
    $('examples').append(b);
  }

  await serviceWorker();
  setStatus('Loading models…');
  // the page answers with the bi-encoder as soon as it is ready; the cross-encoder loads meanwhile
  // (in the pool's second worker on a multi-core machine)
  let ready = false;
  mr = await MinirankWorker.load({
    deferCrossEncoder: true,
    onProgress: ({ stage, loaded, total }) => {
      if (ready) return;
      if (stage.startsWith('compile')) setStatus('Compiling the bi-encoder…', loaded, total);
      else setStatus(`Loading ${stage} (${(loaded / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB)…`, loaded, total);
    },
  });
  ready = true;
  $('ce-status').textContent = 'The cross-encoder is loading: searches show the fused answer first.';
  mr.crossEncoderReady.then(
    () => {
      $('ce-status').textContent = `The cross-encoder is ready (${mr.workers} worker${mr.workers > 1 ? 's' : ''}).`;
      document.body.dataset.crossEncoder = 'ready';
    },
    (e) => showError(e),
  );
  if (!(await restore())) await indexDocs(seedDocs);
  enable(true);
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  showError(e);
  setStatus('Failed to start.');
});
