// The built npm package (pkg/) in Node: load the shipped models from file URLs, run the seed search.
//   node --test tests/node/        (after scripts/build-wasm.sh)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const root = new URL('../../', import.meta.url);
const { Minirank, MinirankError, DEFAULT_MODELS } = await import(new URL('pkg/minirank.js', root));

const seedDocs = (await readFile(new URL('tests/fixtures/seed000.jsonl', root), 'utf8'))
  .split('\n').filter(Boolean).map((l) => JSON.parse(l));
const { questions } = JSON.parse(await readFile(new URL('tests/fixtures/seed000_questions.json', root), 'utf8'));

const stages = new Set();
const mr = await Minirank.load({ onProgress: ({ stage }) => stages.add(stage) });
const indexed = await mr.index(seedDocs);

test('loads the shipped models and indexes the seed corpus', () => {
  assert.equal(indexed, 20);
  assert.equal(mr.size, 20);
  assert.equal(mr.dim, 384);
  assert.ok(stages.has('biEncoder.model') && stages.has('crossEncoder.model') && stages.has('compile'), [...stages].join());
  assert.match(DEFAULT_MODELS.crossEncoder.model.sha256, /^b11ad266/);
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
  assert.deepEqual(a.hits.map((h) => h.id), b.hits.map((h) => h.id));
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

test('errors are MinirankErrors naming the parameter, and the instance keeps working', async () => {
  await assert.rejects(mr.search(questions[0], { candidates: 5, topK: 10 }), (e) => e.name === 'MinirankError' && e.code === 'InvalidOption' && /topK/.test(e.message));
  await assert.rejects(mr.search(questions[0], { topk: 3 }), (e) => /unknown option `topk`/.test(e.message));
  await assert.rejects(mr.retrieve(''), (e) => e.code === 'EmptyInput');
  await assert.rejects(mr.rerank(123, []), (e) => /query/.test(e.message));
  await assert.rejects(mr.index('not an array'), (e) => e.code === 'InvalidOption');
  await assert.rejects(Minirank.load({ biEncoder: { model: new Uint8Array([1, 2, 3]) } }), (e) => e instanceof MinirankError && /tokenizer/.test(e.message));
  await assert.rejects(
    Minirank.load({ crossEncoder: { model: new URL('models/cross-encoder/model.onnx', root), tokenizer: new URL('models/cross-encoder/tokenizer.json', root), sha256: '0'.repeat(64) } }),
    (e) => e.code === 'IntegrityMismatch');
  assert.throws(() => mr.loadIndex(new Uint8Array(10)), (e) => e.code === 'CorruptIndex');
  const r = await mr.search(questions[1]);
  assert.equal(r.hits.length, 5);
});

test('saveIndex / loadIndex round-trip', async () => {
  const bytes = mr.saveIndex();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 20 * 384 * 4);
  const other = await Minirank.load();
  assert.equal(other.loadIndex(bytes), 20);
  assert.deepEqual(other.saveIndex(), bytes);
  other.free();
});
