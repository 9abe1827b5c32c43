// The built npm package (pkg/) in Node: load the shipped models from file URLs, run the seed search.
//   node --test tests/node/        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = new URL('../../', import.meta.url);
const { Minirank, MinirankError, Scorer, DEFAULT_MODELS, saveIndexToIndexedDB, loadIndexFromIndexedDB, wasmMemoryBytes } = await import(
  new URL('pkg/minirank.js', root)
);

const seedDocs = (await readFile(new URL('tests/fixtures/seed000.jsonl', root), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const { questions } = JSON.parse(await readFile(new URL('tests/fixtures/seed000_questions.json', root), 'utf8'));

const stages = new Set();
const mr = await Minirank.load({ onProgress: ({ stage }) => stages.add(stage) });
const indexed = await mr.index(seedDocs);

test('loads the shipped models and indexes the seed corpus', async () => {
  assert.equal(indexed, 20);
  assert.equal(mr.size, 20);
  assert.equal(mr.dim, 384);
  assert.ok(stages.has('biEncoder.model') && stages.has('crossEncoder.model') && stages.has('compile'), [...stages].join());
  // the manifest's digests are the shipped files' (tract NNEF converted from models/*/model.onnx at
  // build time; that they score as the ONNX files do is tested below)
  for (const [role, dir] of [
    ['biEncoder', 'bi-encoder'],
    ['crossEncoder', 'cross-encoder'],
  ]) {
    const bytes = await readFile(new URL(`pkg/models/${dir}/model.nnef.tar`, root));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), DEFAULT_MODELS[role].model.sha256, role);
  }
});

test('the shipped tokenizers differ only in their truncation, so the core parses them once', async () => {
  // src/tokenize.rs shares one parse between tokenizer.json files whose top-level entries other
  // than `truncation` are the same text; scripts/build-wasm.sh writes both compactly for that
  const [bi, ce] = await Promise.all(['bi-encoder', 'cross-encoder'].map((d) => readFile(new URL(`pkg/models/${d}/tokenizer.json`, root), 'utf8')));
  const truncation = /"truncation":\{[^{}]*\},/;
  assert.ok(truncation.test(bi) && truncation.test(ce));
  assert.notEqual(JSON.parse(bi).truncation.max_length, JSON.parse(ce).truncation.max_length);
  assert.ok(bi.replace(truncation, '') === ce.replace(truncation, ''), 'the rest differs');
});

test('search runs both stages on the seed questions', async () => {
  const r = await mr.search(questions[0], { candidates: 20, topK: 5 });
  assert.equal(r.candidates.length, 20);
  assert.equal(r.hits.length, 5);
  assert.ok(['multiprocessing', 'gil', 'concurrent-futures', 'numba'].includes(r.hits[0].id), r.hits.map((h) => h.id).join());
  const r2 = await mr.search(questions[1]);
  assert.equal(r2.hits[0].id, 'asyncio');
  const r3 = await mr.search(questions[2]);
  assert.equal(r3.hits[0].id, 'asyncio-queue');
  assert.ok(r3.hits.some((h) => h.id === 'queue-queue'));
});

test('retrieve then rerank equals search, and the cache answers repeats', async () => {
  const cands = await mr.retrieve(questions[1], { k: 20 });
  const a = await mr.rerank(questions[1], cands, { topK: 5 });
  const b = await mr.search(questions[1], { candidates: 20, topK: 5 });
  assert.deepEqual(
    a.hits.map((h) => h.id),
    b.hits.map((h) => h.id),
  );
  assert.equal(b.cacheHits, 20);
  assert.equal(b.scored, 0);
  assert.ok(mr.cacheStats().hits >= 20);
});

test('rerank-only path takes plain strings from elsewhere', async () => {
  const r = await mr.rerank('How do I share state between processes?', [
    'Bananas are rich in potassium.',
    'The multiprocessing.Manager class enables shared state between processes via a proxy server.',
  ]);
  assert.equal(r.hits[0].id, '1');
  assert.ok(r.hits[0].logit > r.hits[1].logit);
  assert.ok(Math.abs(r.hits[0].score - 1 / (1 + Math.exp(-r.hits[0].logit))) < 1e-6);
});

test('the fused stage-2 score is explained on every hit and its weights are options', async () => {
  const r = await mr.search(questions[0], { candidates: 20, topK: 20 });
  for (const h of r.hits) {
    const c = h.contributions;
    assert.ok(Math.abs(h.fused - (c.dense + c.bm25 + c.crossEncoder)) < 1e-4, JSON.stringify(h));
    assert.ok(Number.isFinite(h.dense) && Number.isFinite(h.bm25) && Number.isFinite(h.logit));
  }
  assert.ok(r.hits.every((h, i) => i === 0 || r.hits[i - 1].fused >= h.fused));
  assert.ok(
    r.candidates.every((c) => Number.isFinite(c.dense) && Number.isFinite(c.bm25)),
    'candidates carry both signals',
  );
  // the cross-encoder alone orders by logit; without it, its contribution is 0
  const ce = await mr.search(questions[0], { candidates: 20, topK: 20, fusion: { dense: 0, bm25: 0, crossEncoder: 1 } });
  assert.ok(ce.hits.every((h, i) => i === 0 || ce.hits[i - 1].logit >= h.logit));
  const lexical = await mr.search(questions[0], { candidates: 20, topK: 20, fusion: { crossEncoder: 0 } });
  assert.ok(lexical.hits.every((h) => h.contributions.crossEncoder === 0));
  await assert.rejects(
    mr.search(questions[0], { fusion: { alpha: 0.5 } }),
    (e) => e.code === 'InvalidOption' && /fusion/.test(e.message) && /alpha/.test(e.message),
  );
  await assert.rejects(mr.search(questions[0], { fusion: { dense: -1 } }), (e) => e.code === 'InvalidOption' && /fusion\.dense/.test(e.message));
  await assert.rejects(mr.search(questions[0], { fusion: { dense: 0, bm25: 0, crossEncoder: 0 } }), (e) => e.code === 'InvalidOption');
});

test('the BM25 weight is chosen per query by its length unless given, and every result says which weights it used', async () => {
  const long =
    'Which tools and libraries let a Python program use every processor core for heavy numerical computation, avoiding the global interpreter lock, with examples of process pools, shared memory and compiled extensions?';
  const short = await mr.search('parallel python', { candidates: 20, topK: 20 });
  assert.equal(short.weights.bm25, 0, JSON.stringify(short.weights));
  assert.ok(short.hits.every((h) => h.contributions.bm25 === 0));
  const wide = await mr.search(long, { candidates: 20, topK: 20 });
  assert.ok(wide.weights.bm25 > 0, JSON.stringify(wide.weights));
  assert.ok(wide.hits.some((h) => h.contributions.bm25 !== 0));
  assert.deepEqual(Object.keys(wide.weights).sort(), ['bm25', 'crossEncoder', 'dense']);
  // the shipped cross-encoder's own weight, from its config.json
  assert.equal(wide.weights.crossEncoder, 0);
  // deterministic: the same query, the same weights and order
  const again = await mr.search(long, { candidates: 20, topK: 20 });
  assert.deepEqual(again.weights, wide.weights);
  assert.deepEqual(
    again.hits.map((h) => h.id),
    wide.hits.map((h) => h.id),
  );
  // a given weight overrides the rule, for short and long queries alike
  for (const q of ['parallel python', long]) {
    const given = await mr.search(q, { candidates: 20, topK: 20, fusion: { bm25: 0.5 } });
    assert.equal(given.weights.bm25, 0.5);
  }
  // rerank of candidates from elsewhere chooses the same way
  const cands = (await mr.retrieve(long, { k: 10 })).map((c) => c.text);
  assert.equal((await mr.rerank(long, cands)).weights.bm25, wide.weights.bm25);
  assert.equal((await mr.rerank('parallel python', cands)).weights.bm25, 0);
});

test('sizes far beyond the index are bounded by it, without a trap or a lasting allocation', async () => {
  const before = wasmMemoryBytes();
  for (const retrieval of ['dense', 'bm25', 'hybrid']) {
    const c = await mr.retrieve(questions[0], { k: 1e9, retrieval });
    assert.ok(c.length > 0 && c.length <= 20, `${retrieval}: ${c.length}`);
    const r = await mr.search(questions[0], { candidates: 1e9, topK: 1e9, retrieval });
    assert.equal(r.hits.length, r.candidates.length, retrieval);
  }
  // an allocation sized by `k` (1e9 slots) would have grown the memory by gigabytes, or trapped
  assert.ok(wasmMemoryBytes() - before < 64e6, `${before} -> ${wasmMemoryBytes()}`);
});

test('BM25 stems English words by default; the stemmer is a setting', async () => {
  const other = await Minirank.load();
  await other.index([
    { id: 'p', text: 'Parallelism with processes' },
    { id: 'q', text: 'A queue of tasks' },
  ]);
  const stemmed = await other.retrieve('parallel process', { retrieval: 'bm25' });
  assert.deepEqual(
    stemmed.map((c) => c.id),
    ['p'],
  );
  other.setBm25({ stemmer: null });
  assert.deepEqual(await other.retrieve('parallel process', { retrieval: 'bm25' }), [], 'unstemmed: no shared term');
  assert.throws(
    () => other.setBm25({ stemmer: 'klingon' }),
    (e) => e.code === 'InvalidOption' && /stemmer|klingon/.test(e.message),
  );
  assert.throws(
    () => other.setBm25({ stopword: true }),
    (e) => e.code === 'InvalidOption' && /stopword/.test(e.message),
  );
  other.free();
});

test('errors are MinirankErrors naming the parameter, and the instance keeps working', async () => {
  await assert.rejects(
    mr.search(questions[0], { candidates: 5, topK: 10 }),
    (e) => e.name === 'MinirankError' && e.code === 'InvalidOption' && /topK/.test(e.message),
  );
  await assert.rejects(mr.search(questions[0], { topk: 3 }), (e) => /unknown option `topk`/.test(e.message));
  await assert.rejects(mr.retrieve(''), (e) => e.code === 'EmptyInput');
  await assert.rejects(mr.rerank(123, []), (e) => /query/.test(e.message));
  await assert.rejects(mr.index('not an array'), (e) => e.code === 'InvalidOption');
  await assert.rejects(Minirank.load({ biEncoder: { model: new Uint8Array([1, 2, 3]) } }), (e) => e instanceof MinirankError && /tokenizer/.test(e.message));
  await assert.rejects(
    Minirank.load({
      crossEncoder: {
        model: new URL('models/cross-encoder/model.onnx', root),
        tokenizer: new URL('models/cross-encoder/tokenizer.json', root),
        sha256: '0'.repeat(64),
      },
    }),
    (e) => e.code === 'IntegrityMismatch',
  );
  assert.throws(
    () => mr.loadIndex(new Uint8Array(10)),
    (e) => e.code === 'CorruptIndex',
  );
  const r = await mr.search(questions[1]);
  assert.equal(r.hits.length, 5);
});

test('has tells whether an id is indexed, as remove sees it', async () => {
  const other = await Minirank.load();
  await other.index([
    { id: 'a', text: 'one' },
    { id: 7, text: 'two' },
  ]);
  assert.equal(other.has('a'), true);
  assert.equal(other.has(7), true);
  assert.equal(other.has('7'), true);
  assert.equal(other.has('b'), false);
  assert.equal(other.remove('a'), true);
  assert.equal(other.has('a'), false);
  assert.throws(
    () => other.has(''),
    (e) => e instanceof MinirankError && e.code === 'InvalidOption' && /id/.test(e.message),
  );
  other.free();
});

test('saveIndex / loadIndex round-trip', async () => {
  const bytes = mr.saveIndex();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 20 * 384 * 4);
  const other = await Minirank.load();
  assert.equal(other.loadIndex(bytes), 20);
  assert.deepEqual(other.saveIndex(), bytes);
  other.free();
});

test('limits refuse what would not fit, with an error, and keep the index', async () => {
  const other = await Minirank.load();
  await other.index(['one', 'two']);
  other.setLimits({ maxDocuments: 2, maxDocumentBytes: 100 });
  const before = other.saveIndex();
  await assert.rejects(other.index(['three']), (e) => e.code === 'CapacityExceeded');
  await assert.rejects(other.index([{ id: '0', text: 'x'.repeat(101) }]), (e) => e.code === 'DocumentTooLarge');
  assert.deepEqual(other.saveIndex(), before);
  const limits = other.getLimits();
  assert.equal(limits.maxDocuments, 2);
  assert.ok(limits.memoryBytes > 2 * 384 * 4);
  assert.throws(
    () => other.setLimits({ maxDocuments: -1 }),
    (e) => /maxDocuments/.test(e.message),
  );
  other.free();
});

test('hostile text from JS: lone surrogates, NUL, emoji, RTL work', async () => {
  const other = await Minirank.load();
  const texts = ['lone \uD800 surrogate', 'nul\u0000inside', '👩‍👩‍👧 family', 'مرحبا بالعالم', 'e\u0301 combining', 'x'.repeat(200000)];
  assert.equal(await other.index(texts), texts.length);
  for (const t of texts) {
    const r = await other.search(t, { candidates: 6, topK: 3 });
    assert.equal(r.hits.length, 3);
    assert.ok(r.hits.every((h) => Number.isFinite(h.logit)));
  }
  await assert.rejects(other.search('   '), (e) => e.code === 'EmptyInput');
  await assert.rejects(other.search(null), (e) => /query/.test(e.message));
  await assert.rejects(other.search('q', { candidates: Infinity }), (e) => /candidates/.test(e.message));
  await assert.rejects(other.search('q', { candidates: NaN }), (e) => /candidates/.test(e.message));
  await assert.rejects(other.search('q', { maxLength: 1e9 }), (e) => /maxLength/.test(e.message));
  await assert.rejects(other.rerank('q', [{ text: 5 }]), (e) => /candidates/.test(e.message));
  other.free();
});

test('npm pack holds what a web app needs and nothing else', async () => {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: new URL('pkg/', root) });
  const files = JSON.parse(out)[0]
    .files.map((f) => f.path)
    .sort();
  assert.deepEqual(files, [
    'LICENSE-MODELS.md',
    'README.md',
    'core-worker-entry.js',
    'core-worker.d.ts',
    'core-worker.js',
    'core.d.ts',
    'core.js',
    'filter.d.ts',
    'lib/abort.js',
    'lib/classes.js',
    'lib/errors.js',
    'lib/fetch-cache.js',
    'lib/hub.js',
    'lib/load-core.js',
    'lib/load-models.js',
    'lib/methods.js',
    'lib/options.js',
    'lib/platform.js',
    'lib/progressive.js',
    'lib/remote.js',
    'lib/storage.js',
    'lib/worker-client.js',
    'lib/worker-serve.js',
    'manifest.js',
    'minirank.d.ts',
    'minirank.js',
    'minirank_core.d.ts',
    'minirank_core.js',
    'minirank_core_bg.wasm',
    'minirank_core_onnx.js',
    'minirank_core_onnx_bg.wasm',
    'minirank_core_onnx_relaxed_bg.wasm',
    'minirank_core_relaxed_bg.wasm',
    'models.js',
    'models/bi-encoder/config.json',
    'models/bi-encoder/model.nnef.tar',
    'models/bi-encoder/tokenizer.json',
    'models/cross-encoder/MODEL_CARD.md',
    'models/cross-encoder/config.json',
    'models/cross-encoder/model.nnef.tar',
    'models/cross-encoder/tokenizer.json',
    'package.json',
    'precache-files.js',
    'precache.d.ts',
    'precache.js',
    'service-worker.d.ts',
    'service-worker.js',
    'sources.d.ts',
    'sources.js',
    'types.d.ts',
    'worker-entry.js',
    'worker.d.ts',
    'worker.js',
  ]);
  const manifest = JSON.parse(await readFile(new URL('pkg/package.json', root), 'utf8'));
  assert.equal(manifest.exports['.'].default, './minirank.js');
  assert.equal(manifest.exports['./worker'].default, './worker.js');
  assert.equal(manifest.exports['./core'].default, './core.js');
  assert.equal(manifest.exports['./core/worker'].default, './core-worker.js');
  assert.equal(manifest.types, './minirank.d.ts');
});

test('hybrid retrieval, filters, cascade, signals and parents through the package API', async () => {
  const other = await Minirank.load();
  try {
    await other.index(seedDocs.map((d, i) => ({ ...d, metadata: { year: 2000 + i } })));
    const lexical = await other.retrieve('Global Interpreter Lock', { retrieval: 'bm25', k: 3 });
    assert.equal(lexical[0].id, 'gil');
    const r = await other.search(questions[0], {
      retrieval: 'hybrid',
      candidates: 20,
      cascade: [{ scorer: 'dense', keep: 8 }],
      topK: 3,
      filter: { year: { gte: 2002 } },
      signals: { relevance: 1, diversity: { weight: 0.2 } },
    });
    assert.ok(r.candidates.every((c) => c.metadata.year >= 2002));
    assert.equal(r.cascade[0].length, 8);
    assert.equal(r.hits.length, 3);
    assert.ok(r.hits.every((h) => typeof h.components.final === 'number'));
    other.setChunking({ maxTokens: 48 });
    const n = await other.index([{ id: 'book', text: seedDocs.map((d) => d.text).join(' ') }]);
    assert.ok(n > 4);
    const p = await other.search(questions[0], { candidates: 20, topK: 3, parents: 'max' });
    assert.equal(p.hits.filter((h) => h.id === 'book').length, 1, 'one hit for the whole book');
    await assert.rejects(other.search(questions[0], { retrieval: 'semantic' }), (e) => e.code === 'InvalidOption' && /semantic/.test(e.message));
  } finally {
    other.free();
  }
});

test('IndexedDB helpers say clearly that Node has no IndexedDB', async () => {
  await assert.rejects(saveIndexToIndexedDB(mr), (e) => e.code === 'StorageUnavailable' && /IndexedDB is not available/.test(e.message));
  await assert.rejects(loadIndexFromIndexedDB(mr, { key: 7 }), (e) => e.code === 'InvalidOption' && /key/.test(e.message));
});

test("Scorer alone (no bi-encoder) gives the engine's logits; rerank takes logits from elsewhere", async () => {
  const scorer = await Scorer.load();
  const q = questions[0];
  const cands = await mr.retrieve(q, { k: 8 });
  const fromEngine = mr.scorePairs(q, cands);
  const fromScorer = Float32Array.from([...scorer.scorePairs(q, cands.slice(0, 3)), ...scorer.scorePairs(q, cands.slice(3), { batchSize: 2 })]);
  assert.ok(fromEngine instanceof Float32Array && fromEngine.length === 8);
  // other batches pad to other lengths; the int8 linear layers make that visible (5e-4 measured)
  fromEngine.forEach((l, i) => {
    assert.ok(Math.abs(l - fromScorer[i]) < 2e-3, `${l} vs ${fromScorer[i]}`);
  });
  const direct = await mr.rerank(q, cands, { topK: 5 });
  const given = await mr.rerank(q, cands, { topK: 5, logits: fromScorer });
  assert.deepEqual(
    given.hits.map((h) => h.id),
    direct.hits.map((h) => h.id),
  );
  await assert.rejects(mr.rerank(q, cands, { logits: [1, 2] }), (e) => e instanceof MinirankError && e.code === 'InvalidOption' && /logits/.test(e.message));
  assert.throws(
    () => scorer.scorePairs(q, ['ok', '']),
    (e) => e.code === 'EmptyInput',
  );
  await assert.rejects(Scorer.load({ biEncoder: {} }), (e) => e.code === 'InvalidOption' && /biEncoder/.test(e.message));
  scorer.free();
});

test('errors thrown by the wasm core are instanceof MinirankError', async () => {
  const e = await mr.rerank('', ['a']).catch((x) => x);
  assert.ok(e instanceof MinirankError && e.code === 'EmptyInput', String(e));
  assert.ok(!(new Error('plain') instanceof MinirankError));
  assert.ok(new MinirankError('Io', 'made in JS') instanceof MinirankError);
});

test('retrieve from a query vector, and the wasm memory the models take', async () => {
  const q = questions[1];
  const v = mr.embed(q);
  assert.ok(v instanceof Float32Array && v.length === 384);
  const fromText = await mr.retrieve(q, { k: 8, retrieval: 'dense' });
  assert.ok(
    fromText.every((c) => Number.isFinite(c.bm25)),
    'the text also gives BM25 scores',
  );
  // the same candidates and cosines from the vector; only BM25 needs the text
  const withoutBm25 = fromText.map(({ bm25, ...c }) => c);
  assert.deepEqual(await mr.retrieve(v, { k: 8 }), withoutBm25);
  assert.deepEqual(await mr.retrieve(Array.from(v), { k: 8 }), withoutBm25);
  await assert.rejects(mr.retrieve(v, { retrieval: 'bm25' }), (e) => e.code === 'InvalidOption' && /dense/.test(e.message));
  await assert.rejects(mr.retrieve(v.subarray(0, 10)), (e) => e.code === 'DimensionMismatch');
  await assert.rejects(mr.retrieve({ vector: v }), (e) => e.code === 'InvalidOption' && /query/.test(e.message));
  // both models are in this thread's wasm memory: more than their 2 × 23 MB of int8 weights
  assert.ok(wasmMemoryBytes() > 46e6, String(wasmMemoryBytes()));
});

test('a model URL that answers a web page or an error status is a BadResponse, before any integrity check', async () => {
  const { createServer } = await import('node:http');
  const { fetchModelFile } = await import(new URL('pkg/minirank.js', root));
  // a dev server's fallback: index.html for every path it does not have, and one real 404
  const server = createServer((req, res) => {
    if (req.url.startsWith('/gone/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>app</title>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const sha = DEFAULT_MODELS.crossEncoder.model.sha256;
    await assert.rejects(
      fetchModelFile(`${base}/assets/models/model.onnx`, { sha256: sha, cache: false, stage: 'crossEncoder.model' }),
      (e) =>
        e instanceof MinirankError &&
        e.code === 'BadResponse' &&
        e.message.includes(`${base}/assets/models/model.onnx`) &&
        /text\/html/.test(e.message) &&
        /crossEncoder\.model/.test(e.message),
    );
    await assert.rejects(
      fetchModelFile(`${base}/gone/model.onnx`, { cache: false }),
      (e) => e.code === 'BadResponse' && /HTTP 404/.test(e.message) && /text\/plain/.test(e.message),
    );
    await assert.rejects(
      Scorer.load({ crossEncoder: { model: `${base}/m.onnx`, tokenizer: `${base}/t.json` }, cache: false }),
      (e) => e.code === 'BadResponse',
    );
  } finally {
    server.close();
  }
  // the shipped models resolve through literal `new URL('./models/…', import.meta.url)`s
  assert.ok(DEFAULT_MODELS.biEncoder.model.url() instanceof URL);
  assert.ok(DEFAULT_MODELS.biEncoder.model.url().href.endsWith('/models/bi-encoder/model.nnef.tar'));
});

test('MinirankWorker in Node says that it needs Web Workers, as a MinirankError', async () => {
  const { MinirankWorker } = await import(new URL('pkg/worker.js', root));
  await assert.rejects(MinirankWorker.load(), (e) => e instanceof MinirankError && e.code === 'Worker' && /Web Workers/.test(e.message));
});

test("workers: 'auto' (the default) is half the cores, 2 to 4 (1 on one core), fewer with little device memory; other values are refused", async () => {
  const { MinirankWorker, autoWorkers } = await import(new URL('pkg/worker.js', root));
  const core = await import(new URL('pkg/core-worker.js', root));
  assert.equal(core.autoWorkers, autoWorkers);
  const cases = [
    [{ hardwareConcurrency: 1 }, 1],
    [{ hardwareConcurrency: 2 }, 2],
    [{ hardwareConcurrency: 3 }, 2],
    [{ hardwareConcurrency: 4 }, 2],
    [{ hardwareConcurrency: 8 }, 4],
    [{ hardwareConcurrency: 32 }, 4],
    [{}, 1],
    [undefined, 1],
    [{ hardwareConcurrency: 8, deviceMemory: 4 }, 2],
    [{ hardwareConcurrency: 8, deviceMemory: 2 }, 1],
    [{ hardwareConcurrency: 8, deviceMemory: 0.5 }, 1],
    [{ hardwareConcurrency: 8, deviceMemory: 8 }, 4],
  ];
  for (const [nav, n] of cases) assert.equal(autoWorkers(nav), n, JSON.stringify(nav));
  for (const workers of [0, 17, 1.5, 'many', null]) {
    await assert.rejects(
      MinirankWorker.load({ workers }),
      (e) => e instanceof MinirankError && e.code === 'InvalidOption' && /'auto'/.test(e.message),
      String(workers),
    );
  }
});

test('an option added to a Rust struct reaches JS with no JS change: exclude', async () => {
  const first = await mr.retrieve(questions[0], { k: 3 });
  const next = await mr.retrieve(questions[0], { k: 3, exclude: first.map((c) => c.id) });
  assert.equal(next.length, 3);
  assert.ok(next.every((c) => !first.some((f) => f.id === c.id)));
  const r = await mr.search(questions[0], { exclude: [first[0].id] });
  assert.ok(r.hits.every((h) => h.id !== first[0].id));
  await assert.rejects(mr.search(questions[0], { exclude: 'gil' }), (e) => e.code === 'InvalidOption' && /exclude/.test(e.message));
});

test('overlapping index calls each commit their own documents, all or nothing', async () => {
  const other = await Minirank.load();
  const a = Array.from({ length: 7 }, (_, i) => ({ id: `a${i}`, text: `apples and pears, note ${i}` }));
  const b = Array.from({ length: 5 }, (_, i) => ({ id: `b${i}`, text: `bicycles and brakes, note ${i}` }));
  const bad = [
    { id: 'c0', text: 'fine' },
    { id: 'c0', text: 'duplicate id' },
  ];
  // three calls without waiting, slices of 2 so that each yields between slices
  const results = await Promise.allSettled([other.index(a, { sliceSize: 2 }), other.index(bad, { sliceSize: 1 }), other.index(b, { sliceSize: 2 })]);
  assert.equal(results[0].value, 7);
  assert.equal(results[1].status, 'rejected');
  assert.equal(results[1].reason.code, 'DuplicateId');
  assert.equal(results[2].value, 5);
  assert.equal(other.size, 12, 'the failed call added nothing, the others everything');
  const hit = (await other.retrieve('bicycle brakes', { k: 1 }))[0];
  assert.match(hit.id, /^b/);
  other.free();
});

test('modelBaseUrl loads the default models from another place, checked against the package digests', async () => {
  const hosted = await Minirank.load({ modelBaseUrl: new URL('pkg/models/', root) });
  await hosted.index(seedDocs);
  const [a, b] = [await hosted.search(questions[2]), await mr.search(questions[2])];
  assert.deepEqual(
    a.hits.map((h) => [h.id, h.fused]),
    b.hits.map((h) => [h.id, h.fused]),
  );
  hosted.free();
  // a host whose bi-encoder is another file: refused by the digest, naming the file
  const dir = await mkdtemp(join(tmpdir(), 'minirank-host-'));
  for (const role of ['bi-encoder', 'cross-encoder']) {
    await mkdir(join(dir, role));
    for (const f of ['model.nnef.tar', 'tokenizer.json', 'config.json']) await copyFile(new URL(`pkg/models/${role}/${f}`, root), join(dir, role, f));
  }
  await copyFile(new URL('pkg/models/cross-encoder/tokenizer.json', root), join(dir, 'bi-encoder/tokenizer.json'));
  await assert.rejects(
    Minirank.load({ modelBaseUrl: pathToFileURL(`${dir}/`) }),
    (e) => e.code === 'IntegrityMismatch' && /biEncoder\.tokenizer/.test(e.message),
  );
  await rm(dir, { recursive: true });
  await assert.rejects(Minirank.load({ modelBaseUrl: 42 }), (e) => e.code === 'InvalidOption' && /modelBaseUrl/.test(e.message));
});

test('an ONNX model scores exactly as the NNEF file the package ships, converted from it', async () => {
  // the package's cross-encoder is models/cross-encoder/model.onnx after `minirank convert`
  const onnx = await Scorer.load({
    crossEncoder: { model: new URL('models/cross-encoder/model.onnx', root), tokenizer: new URL('models/cross-encoder/tokenizer.json', root) },
    cache: false,
  });
  const shipped = await Scorer.load({ cache: false });
  const texts = seedDocs.slice(0, 12).map((d) => d.text);
  const [a, b] = [onnx.scorePairs(questions[0], texts), shipped.scorePairs(questions[0], texts)];
  assert.equal(a.length, 12);
  assert.deepEqual(Array.from(a), Array.from(b));
  onnx.free();
  shipped.free();
  // that ONNX file was read by the package's second core: the default one reads NNEF only, and
  // says so when it is made to read ONNX (a page's own `wasm`)
  const { DEFAULT_WASM, ONNX_WASM } = await import(new URL('pkg/manifest.js', root));
  assert.ok(DEFAULT_WASM.bytes < ONNX_WASM.bytes * 0.8, `${DEFAULT_WASM.bytes} vs ${ONNX_WASM.bytes}`);
  const tokenizer = new URL('models/cross-encoder/tokenizer.json', root);
  const onnxBytes = new Uint8Array(await readFile(new URL('models/cross-encoder/model.onnx', root)));
  await assert.rejects(
    Scorer.load({ crossEncoder: { model: onnxBytes.slice(), tokenizer }, wasm: DEFAULT_WASM.url(), cache: false }),
    (e) => e instanceof MinirankError && e.code === 'BadModel' && /reads no ONNX/.test(e.message) && /minirank convert/.test(e.message),
  );
  // an ONNX model is recognised from its bytes, or read first when its name does not say
  const dir = await mkdtemp(join(tmpdir(), 'minirank-onnx-'));
  await copyFile(new URL('models/cross-encoder/model.onnx', root), join(dir, 'model'));
  for (const model of [onnxBytes.slice(), pathToFileURL(join(dir, 'model'))]) {
    const other = await Scorer.load({ crossEncoder: { model, tokenizer }, cache: false });
    assert.deepEqual(Array.from(other.scorePairs(questions[0], texts)), Array.from(a), String(model).slice(0, 40));
    other.free();
  }
  await rm(dir, { recursive: true });
  // tract NNEF that is cut short is a bad model, not a crash
  const bytes = new Uint8Array(await readFile(new URL('pkg/models/cross-encoder/model.nnef.tar', root)));
  await assert.rejects(
    Scorer.load({ crossEncoder: { model: bytes.slice(0, bytes.length >> 1), tokenizer: new URL('models/cross-encoder/tokenizer.json', root) }, cache: false }),
    (e) => e instanceof MinirankError && e.code === 'BadModel' && /NNEF/.test(e.message),
  );
});

test('a user model may give a digest per file: each is checked', async () => {
  const file = (f) => new URL(`pkg/models/cross-encoder/${f}`, root);
  const sha = {};
  for (const f of ['model', 'tokenizer', 'config']) sha[f] = DEFAULT_MODELS.crossEncoder[f].sha256;
  const spec = { model: file('model.nnef.tar'), tokenizer: file('tokenizer.json'), config: file('config.json') };
  const scorer = await Scorer.load({ crossEncoder: { ...spec, sha256: sha } });
  assert.equal(scorer.scorePairs(questions[0], ['a passage']).length, 1);
  scorer.free();
  await assert.rejects(
    Scorer.load({ crossEncoder: { ...spec, sha256: { ...sha, tokenizer: sha.config } } }),
    (e) => e.code === 'IntegrityMismatch' && /crossEncoder\.tokenizer/.test(e.message),
  );
  await assert.rejects(
    Scorer.load({ crossEncoder: { ...spec, sha256: { model: sha.model, vocab: sha.model } } }),
    (e) => e.code === 'InvalidOption' && /unknown option `vocab`/.test(e.message),
  );
  await assert.rejects(Scorer.load({ crossEncoder: { ...spec, sha256: 'abc' } }), (e) => e.code === 'InvalidOption' && /crossEncoder\.sha256/.test(e.message));
});

test('signal: an aborted index leaves the index as it was; aborted calls reject with Aborted', async () => {
  const other = await Minirank.load();
  await other.index(seedDocs.slice(0, 5));
  const before = other.saveIndex();
  const ac = new AbortController();
  const many = Array.from({ length: 40 }, (_, i) => ({ id: `n${i}`, text: `document number ${i} about processes` }));
  const onProgress = ({ loaded }) => {
    if (loaded >= 8) ac.abort(new Error('the user typed again'));
  };
  await assert.rejects(
    other.index(many, { sliceSize: 8, onProgress, signal: ac.signal }),
    (e) => e instanceof MinirankError && e.code === 'Aborted' && /index was aborted: the user typed again/.test(e.message),
  );
  assert.equal(other.size, 5);
  assert.deepEqual(other.saveIndex(), before, 'not one document of the aborted batch is kept');
  for (const call of [
    () => other.search(questions[0], { signal: ac.signal }),
    () => other.retrieve(questions[0], { signal: ac.signal }),
    () => other.rerank(questions[0], ['a', 'b'], { signal: ac.signal }),
    () => other.index(['x'], { signal: ac.signal }),
  ]) {
    await assert.rejects(call(), (e) => e.code === 'Aborted');
  }
  await assert.rejects(other.search(questions[0], { signal: 'soon' }), (e) => e.code === 'InvalidOption' && /signal/.test(e.message));
  // a live signal is no option of the core: the call runs as without it
  const live = new AbortController().signal;
  assert.deepEqual(
    (await other.search(questions[0], { signal: live, topK: 3 })).hits.map((h) => h.id),
    (await other.search(questions[0], { topK: 3 })).hits.map((h) => h.id),
  );
  assert.equal(await other.index(many.slice(0, 3), { signal: live }), 3);
  await assert.rejects(Minirank.load({ signal: ac.signal }), (e) => e.code === 'Aborted' && /load/.test(e.message));
  await assert.rejects(Scorer.load({ signal: ac.signal }), (e) => e.code === 'Aborted');
  other.free();
});

test("'minirank/core' has no default models: it asks for models or modelBaseUrl, and loads from modelBaseUrl", async () => {
  const core = await import(new URL('pkg/core.js', root));
  assert.equal(core.DEFAULT_MODELS, undefined);
  assert.equal(core.MODEL_MANIFEST.crossEncoder.model.sha256, DEFAULT_MODELS.crossEncoder.model.sha256);
  await assert.rejects(
    core.Minirank.load(),
    (e) => e instanceof MinirankError && e.code === 'InvalidOption' && /biEncoder\.model.*minirank\/core/.test(e.message),
  );
  await assert.rejects(core.Scorer.load(), (e) => e.code === 'InvalidOption' && /crossEncoder\.model/.test(e.message));
  const hosted = await core.Minirank.load({ modelBaseUrl: new URL('pkg/models/', root) });
  assert.ok(hosted instanceof core.Minirank);
  await hosted.index(seedDocs);
  assert.deepEqual(
    (await hosted.search(questions[1])).hits.map((h) => h.id),
    (await mr.search(questions[1])).hits.map((h) => h.id),
  );
  hosted.free();
  // 'minirank' is core with defaults: the same classes underneath, the same errors
  assert.ok(mr instanceof core.Minirank);
});

test('indexVectors: documents with vectors from elsewhere, no model run, same retrieval', async () => {
  const other = await Minirank.load();
  const dim = mr.dim;
  const flat = new Float32Array(seedDocs.length * dim);
  seedDocs.forEach((d, i) => {
    flat.set(mr.embed(d.text), i * dim);
  });
  assert.equal(await other.indexVectors(seedDocs, flat), 20);
  const [a, b] = [await other.retrieve(questions[0], { k: 5, retrieval: 'dense' }), await mr.retrieve(questions[0], { k: 5, retrieval: 'dense' })];
  assert.deepEqual(
    a.map((c) => c.id),
    b.map((c) => c.id),
  );
  await assert.rejects(other.indexVectors([{ id: 'x', text: 'x' }], flat.subarray(0, 10)), (e) => e.code === 'InvalidOption' && /vectors/.test(e.message));
  assert.equal(other.size, 20);
  other.free();
});

test('the int8 kernel: Node 20 has no relaxed SIMD, so the SIMD128 one runs and the relaxed one is refused', async () => {
  const { int8Kernel } = await import(new URL('pkg/minirank.js', root));
  const hasRelaxed = WebAssembly.validate(
    new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 147, 2, 11,
    ]),
  );
  // Node 20 (what the tests run on) cannot validate relaxed SIMD; a newer Node may choose either
  if (hasRelaxed) assert.ok(['simd128', 'relaxed-simd'].includes(int8Kernel()), int8Kernel());
  else assert.equal(int8Kernel(), 'simd128');
  await assert.rejects(Minirank.load({ int8Kernel: 'vnni' }), (e) => e instanceof MinirankError && e.code === 'InvalidOption' && /int8Kernel/.test(e.message));
  if (!hasRelaxed) {
    await assert.rejects(Scorer.load({ int8Kernel: 'relaxed-simd' }), (e) => e.code === 'InvalidOption' && /relaxed SIMD/.test(e.message));
    // the thread's core and its models go on with the SIMD128 kernel
    assert.equal(int8Kernel(), 'simd128');
    assert.equal((await mr.search(questions[0], { topK: 3 })).hits.length, 3);
  }
  const scorer = await Scorer.load({ int8Kernel: 'simd128' });
  assert.equal(int8Kernel(), 'simd128');
  scorer.free();
});
