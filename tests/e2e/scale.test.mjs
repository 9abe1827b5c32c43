// Scale: 100,000 documents (synthetic, with vectors given: `indexVectors`, no model run) indexed in a
// page, saved to IndexedDB, the index cleared and restored from IndexedDB, then searched. A profile
// on disk, as users have: an in-memory (private) context's quota does not hold a 170 MB index.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPersistent } from './harness.mjs';

const { server, context } = await startPersistent();
const N = Number(process.env.MINIRANK_SCALE_DOCS || 100_000);

test(`${N} documents: indexed with their vectors, round-tripped through IndexedDB, searched`, { timeout: 900_000 }, async (t) => {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${server.origin}/tests/e2e/blank.html`);
  const r = await page.evaluate(async (n) => {
    const { Minirank, saveIndexToIndexedDB, loadIndexFromIndexedDB, wasmMemoryBytes } = await import('/pkg/minirank.js');
    const { rng } = await import('/tests/soak/soak.js');
    const random = rng(3);
    const mr = await Minirank.load();
    const dim = mr.dim;
    const time = {};
    let t0 = performance.now();
    for (let start = 0; start < n; start += 10_000) {
      // in batches, as an app streams them in
      const count = Math.min(10_000, n - start);
      const docs = Array.from({ length: count }, (_, i) => ({
        id: `doc-${start + i}`,
        text: `synthetic document ${start + i} about topic ${(start + i) % 97}`,
      }));
      const vectors = new Float32Array(count * dim);
      for (let i = 0; i < vectors.length; i++) vectors[i] = random() - 0.5;
      await mr.indexVectors(docs, vectors);
    }
    time.index = performance.now() - t0;
    // a query vector near document 12345
    const probe = Math.min(12_345, n - 1);
    const near = (await mr.retrieve(`synthetic document ${probe} about topic ${probe % 97}`, { k: 1, retrieval: 'bm25' }))[0];
    const memoryAfterIndex = wasmMemoryBytes();
    t0 = performance.now();
    const saved = await saveIndexToIndexedDB(mr, { key: 'scale' });
    time.save = performance.now() - t0;
    mr.clear();
    t0 = performance.now();
    const restored = await loadIndexFromIndexedDB(mr, { key: 'scale' });
    time.load = performance.now() - t0;
    t0 = performance.now();
    // the vectors are random, so only BM25 can find the probe: a five-term query gets no BM25
    // weight by default (the weight follows the query's length), so it is given here
    const search = await mr.search(`synthetic document ${probe} about topic ${probe % 97}`, { candidates: 20, topK: 3, fusion: { bm25: 1 } });
    time.search = performance.now() - t0;
    mr.free();
    return { size: restored.documents, savedBytes: saved.bytes, near: near.id, top: search.hits.map((h) => h.id), time, memoryAfterIndex };
  }, N);
  t.diagnostic(
    `${N} documents: index ${Math.round(r.time.index)} ms, IndexedDB save ${Math.round(r.time.save)} ms (${(r.savedBytes / 1e6).toFixed(0)} MB), load ${Math.round(r.time.load)} ms, search ${Math.round(r.time.search)} ms; wasm memory ${(r.memoryAfterIndex / 1e6).toFixed(0)} MB`,
  );
  assert.equal(r.size, N);
  assert.ok(r.savedBytes > N * 384 * 4, String(r.savedBytes));
  const probe = `doc-${Math.min(12_345, N - 1)}`;
  assert.equal(r.near, probe);
  assert.ok(r.top.includes(probe), r.top.join());
  assert.deepEqual(problems, []);
});
