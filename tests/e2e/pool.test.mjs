// A pool of Web Workers (`MinirankWorker.load({ workers: 2 })`) in headless Chromium, under the
// same strict CSP as the demo: rerank and search give what one worker gives; errors are the same.
//   node --test tests/e2e/        (after scripts/build-wasm.sh; needs /usr/bin/chromium)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { blankPage, root, start } from './harness.mjs';

const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));

const { server, browser } = await start();

test('a pool of two workers reranks and searches like one worker', { timeout: 600_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async (qs) => {
    const { MinirankWorker } = await import('/pkg/worker.js');
    const { documents: docs } = await import('/examples/shared/seed.js');
    // each worker times the int8 kernels at its start: the pool's helper takes its primary's
    // choice, and the single worker is given it, so that all three score alike
    const pool = await MinirankWorker.load({ workers: 2 });
    const one = await MinirankWorker.load({ workers: 1, int8Kernel: pool._kernel });
    await one.index(docs);
    await pool.index(docs);
    const err = (p) =>
      p.then(
        () => null,
        (e) => ({ name: e.name, code: e.code, message: e.message }),
      );
    const kernels = [pool._kernel, await pool._helpers[0]._call('int8Kernel', []), await one._call('int8Kernel', [])];
    const out = { workers: [one.workers, pool.workers], kernels, rerank: [], search: [] };
    for (const q of qs) {
      const cands = await one.retrieve(q, { k: 20 });
      out.rerank.push([await one.rerank(q, cands, { topK: 10 }), await pool.rerank(q, cands, { topK: 10 })]);
      const o = { candidates: 15, topK: 5, retrieval: 'hybrid', cascade: [{ scorer: 'bm25', keep: 10 }], signals: { diversity: { weight: 0.2 } } };
      out.search.push([await one.search(q, o), await pool.search(q, o)]);
    }
    // the BM25 weight chosen per query by its length: 0 for a two-word query, above 0 for a long one
    const long =
      'Which tools and libraries let a Python program use every processor core for heavy numerical computation, avoiding the global interpreter lock, with examples of process pools, shared memory and compiled extensions?';
    out.weights = [];
    for (const q of ['parallel python', long]) out.weights.push([(await one.search(q)).weights, (await pool.search(q)).weights]);
    // The pool runs the core's own path: a repeat is answered from the primary worker's score cache.
    const c0 = await one.retrieve(qs[0], { k: 20, retrieval: 'dense' });
    out.repeat = [(await one.rerank(qs[0], c0)).cacheHits, (await pool.rerank(qs[0], c0)).cacheHits];
    out.errors = [
      [await err(one.rerank(qs[0], ['fine', ' '])), await err(pool.rerank(qs[0], ['fine', ' ']))],
      [await err(one.search(qs[0], { candidates: 3, topK: 5 })), await err(pool.search(qs[0], { candidates: 3, topK: 5 }))],
      [await err(one.rerank(qs[0], ['a', 'b'], { batchSize: 0 })), await err(pool.rerank(qs[0], ['a', 'b'], { batchSize: 0 }))],
    ];
    out.badWorkers = await err(MinirankWorker.load({ workers: 0 }));
    out.memory = [await one.memoryBytes(), await pool.memoryBytes()];
    // a query vector from the worker's embed() crosses to retrieve() as a Float32Array
    const v = await one.embed(qs[0]);
    out.byVector = [(await one.retrieve(v, { k: 20 })).map((c) => c.id), c0.map((c) => c.id), v instanceof Float32Array];
    // a candidate source: the worker embeds the query and reranks, and the request names the
    // worker's bi-encoder for the source to check
    let request;
    const source = async (req) => {
      request = req;
      return (await one.retrieve(req.text, { k: req.k, retrieval: 'dense' })).map(({ id, text, dense }) => ({ id, text, dense }));
    };
    const viaSource = await pool.search(qs[0], { source, candidates: 10, topK: 3 });
    out.source = { model: request.model, fingerprints: [one.fingerprint, pool.fingerprint], hits: viaSource.hits.length, k: request.k };
    // a helper terminated: its share goes to the primary worker, and the pool replaces it
    pool._helpers[0].terminate();
    const fresh = ['fresh one', 'fresh two', 'fresh three'];
    out.helperGone = [(await pool.rerank(qs[0], fresh)).hits.map((h) => h.id), (await one.rerank(qs[0], fresh)).hits.map((h) => h.id)];
    await pool._replacing;
    out.replaced = [pool.workers, (await pool.memoryBytes()).length];
    pool.terminate();
    out.afterTerminate = await err(pool.rerank(qs[0], ['a', 'b']));
    one.terminate();
    return out;
  }, questions);
  assert.deepEqual(r.workers, [1, 2]);
  assert.ok(['simd128', 'relaxed-simd'].includes(r.kernels[0]), r.kernels[0]);
  assert.deepEqual(r.kernels, [r.kernels[0], r.kernels[0], r.kernels[0]]);
  const same = (a, b, what) => {
    assert.deepEqual(
      b.hits.map((h) => h.id),
      a.hits.map((h) => h.id),
      what,
    );
    // shards pad to other lengths than one batch; the int8 linear layers' rounding of
    // activations makes the last bits of f32 visible (5e-4 measured with 16-bit activations; the
    // relaxed kernel's 14-bit steps are 4 times as large: 2.3e-3 measured)
    const bound = r.kernels[0] === 'relaxed-simd' ? 8e-3 : 2e-3;
    a.hits.forEach((h, i) => {
      assert.ok(Math.abs(h.logit - b.hits[i].logit) < bound, `${what}: ${h.logit} vs ${b.hits[i].logit}`);
    });
  };
  r.rerank.forEach(([a, b], i) => {
    same(a, b, `rerank ${i}`);
    assert.equal(b.scored, 20);
  });
  r.search.forEach(([a, b], i) => {
    same(a, b, `search ${i}`);
    assert.deepEqual(
      b.candidates.map((c) => c.id),
      a.candidates.map((c) => c.id),
    );
    assert.deepEqual(b.cascade, a.cascade);
    assert.equal(b.cascade[0].length, 10);
    assert.ok(b.hits.every((h) => h.components && typeof h.components.redundancy === 'number'));
  });
  r.search.forEach(([a, b]) => {
    assert.deepEqual(b.weights, a.weights);
  });
  const [[short1, shortPool], [long1, longPool]] = r.weights;
  assert.equal(short1.bm25, 0, JSON.stringify(short1));
  assert.ok(long1.bm25 > 0, JSON.stringify(long1));
  assert.deepEqual(shortPool, short1);
  assert.deepEqual(longPool, long1);
  assert.deepEqual(r.repeat, [20, 20]);
  for (const [a, b] of r.errors) {
    assert.ok(a && a.name === 'MinirankError', JSON.stringify(a));
    assert.deepEqual(b, a);
  }
  assert.equal(r.errors[0][0].code, 'EmptyInput');
  assert.match(r.errors[1][0].message, /topK/);
  assert.equal(r.badWorkers.code, 'InvalidOption');
  assert.match(r.badWorkers.message, /workers/);
  assert.equal(r.afterTerminate.code, 'Worker');
  assert.deepEqual(r.helperGone[0], r.helperGone[1]);
  assert.deepEqual(r.replaced, [2, 2]);
  // memory: one figure per worker; the pool's second worker holds only the cross-encoder
  assert.equal(r.memory[0].length, 1);
  assert.equal(r.memory[1].length, 2);
  const [primary, helper] = r.memory[1];
  assert.ok(helper > 10e6 && primary > helper, `pool memory ${r.memory[1]}`);
  assert.ok(r.source.fingerprints[0] > 0, JSON.stringify(r.source));
  assert.equal(r.source.fingerprints[1], r.source.fingerprints[0]);
  assert.deepEqual(r.source.model, { dim: 384, fingerprint: r.source.fingerprints[0] });
  assert.deepEqual([r.source.k, r.source.hits], [10, 3]);
  assert.deepEqual(r.byVector[0], r.byVector[1]);
  assert.equal(r.byVector[2], true);
  assert.deepEqual(problems, []);
});

test('a worker that stops by itself: a helper mid-rerank is replaced and the call completes; the primary rejects every pending call', {
  timeout: 600_000,
}, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async (qs) => {
    const { MinirankWorker } = await import('/pkg/worker.js');
    const { documents: docs } = await import('/examples/shared/seed.js');
    // the wasm given as bytes: the first worker gets them moved, the helpers (and their
    // replacements) a kept copy
    const wasm = await (await fetch('/pkg/minirank_core_bg.wasm')).arrayBuffer();
    const pool = await MinirankWorker.load({ workers: 2, wasm });
    await pool.index(docs);
    const cands = await pool.retrieve(qs[0], { k: 20 });
    const expected = (await pool.rerank(qs[0], cands, { topK: 10 })).hits.map((h) => h.id);
    pool.setCacheCapacity(0);
    // the raw Worker of a helper ends behind the pool's back (as a crash would), mid-call
    const helper = pool._helpers[0];
    const call = pool.rerank(qs[0], cands, { topK: 10 });
    helper._worker.terminate();
    const out = { completed: (await call).hits.map((h) => h.id), expected };
    await pool._replacing;
    out.replaced = [pool.workers, pool._helpers[0] !== helper, (await pool.memoryBytes()).length];
    out.after = (await pool.rerank(qs[1], cands, { topK: 5 })).hits.length;
    // the primary worker ends with calls in flight: each rejects, none hangs, later calls too
    const calls = [pool.search(qs[0]), pool.search(qs[1]), pool.retrieve(qs[2]), pool.index([{ id: 'late', text: 'late document' }])];
    pool._worker.terminate();
    const settled = await Promise.allSettled(calls);
    out.pending = settled.map((s) => (s.status === 'rejected' ? [s.reason.name, s.reason.code] : ['fulfilled']));
    out.later = await pool.search(qs[0]).then(
      () => null,
      (e) => e.code,
    );
    out.helpersLeft = pool._helpers.length;
    return out;
  }, questions);
  assert.deepEqual(r.completed, r.expected);
  assert.deepEqual(r.replaced, [2, true, 2]);
  assert.equal(r.after, 5);
  assert.ok(
    r.pending.every(([name, code]) => name === 'MinirankError' && code === 'WorkerLost'),
    JSON.stringify(r.pending),
  );
  assert.equal(r.later, 'WorkerLost');
  assert.equal(r.helpersLeft, 0);
  assert.deepEqual(problems, []);
});

test('signal in a worker: an aborted index keeps the index, aborted queued searches are skipped, an aborted load rejects', { timeout: 600_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async (qs) => {
    const { MinirankWorker } = await import('/pkg/worker.js');
    const { documents: docs } = await import('/examples/shared/seed.js');
    const code = (p) =>
      p.then(
        () => 'resolved',
        (e) => `${e.name}:${e.code}`,
      );
    const mw = await MinirankWorker.load({ workers: 2 });
    await mw.index(docs);
    const before = await mw.saveIndex();
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    const out = {};
    // a long index aborted after its first slice: nothing of it is kept
    const ac = new AbortController();
    const many = Array.from({ length: 200 }, (_, i) => ({ id: `n${i}`, text: `document ${i} on process pools` }));
    const onProgress = ({ loaded }) => {
      if (loaded >= 8) ac.abort();
    };
    out.index = [await code(mw.index(many, { sliceSize: 8, onProgress, signal: ac.signal })), mw.size, same(before, await mw.saveIndex())];
    // a user typing: three searches, the first two aborted while queued; the last one answers
    const typing = [new AbortController(), new AbortController()];
    const calls = typing.map((a, i) => code(mw.search(qs[i], { signal: a.signal })));
    const last = mw.search(qs[2], { signal: new AbortController().signal });
    for (const a of typing) a.abort();
    out.typing = [...(await Promise.all(calls)), (await last).hits[0].id];
    out.afterwards = (await mw.search(qs[1])).hits[0].id;
    mw.terminate();
    // a load aborted while it downloads
    const al = new AbortController();
    const loading = code(MinirankWorker.load({ signal: al.signal }));
    setTimeout(() => al.abort(), 30);
    out.load = await loading;
    return out;
  }, questions);
  assert.deepEqual(r.index, ['MinirankError:Aborted', 20, true]);
  assert.deepEqual(r.typing, ['MinirankError:Aborted', 'MinirankError:Aborted', 'asyncio-queue']);
  assert.equal(r.afterwards, 'asyncio');
  assert.equal(r.load, 'MinirankError:Aborted');
  assert.deepEqual(problems, []);
});
