// Progressive search in Web Workers (headless Chromium, the demo's strict CSP): with one worker and
// with a pool of two, `search(query, { onStage })` answers the fused stage, then the reranked one;
// a newer query aborts the older one's rerank; with `deferCrossEncoder` the fused answer comes
// while the cross-encoder still loads (in a pool, only the second worker holds it).
//   node --test tests/e2e/progressive.test.mjs        (after scripts/build-wasm.sh; needs /usr/bin/chromium)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { blankPage, root, start } from './harness.mjs';

const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));
const { server, browser } = await start();

/** In the page: load a MinirankWorker with `options`, index the seed corpus, and run the checks. */
const inPage = async ([qs, options]) => {
  const { MinirankWorker } = await import('/pkg/worker.js');
  const { Minirank } = await import('/pkg/minirank.js');
  const { documents: docs } = await import('/examples/shared/seed.js');
  const ids = (r) => r.hits.map((h) => h.id);
  const OPTS = { candidates: 20, topK: 5 };
  const events = [];
  let ceReady = false;
  const mw = await MinirankWorker.load(options);
  mw.crossEncoderReady.then(() => {
    ceReady = true;
  });
  await mw.index(docs);
  // calls made while the cross-encoder loads keep their order: this search does not see the
  // document indexed after it, nor miss the one removed after it (checked below, once it is reranked)
  const early = mw.search(qs[0], { candidates: 20, topK: 20 });
  await mw.remove('gil');
  await mw.index([{ id: 'late', text: qs[0] }]);
  const loading = !ceReady;
  await mw.remove('late');
  await mw.index(docs.filter((d) => d.id === 'gil'));
  // the first progressive search: its fused answer, then the reranked one
  const stages = [];
  const first = await mw.search(qs[0], { ...OPTS, onStage: (r) => stages.push([r.stage, ceReady, ids(r)]) });
  events.push(...stages.map(([stage, ready]) => `${stage}${ready ? '' : ' (cross-encoder loading)'}`));
  const earlyIds = ids(await early);
  const order = { loading, early: earlyIds.includes('gil') && !earlyIds.includes('late') };
  // search as you type: each query supersedes the one before while it reranks
  await mw.setCacheCapacity(0);
  const outcomes = [];
  const typed = [];
  for (const q of qs) {
    // the next query comes as soon as this one's fused answer is shown
    await new Promise((shown) => {
      const search = mw.search(q, {
        ...OPTS,
        onStage: (r) => {
          outcomes.push(`${q.slice(0, 12)}:${r.stage}`);
          if (r.stage === 'fused') shown();
        },
      });
      search.catch(shown);
      typed.push(search);
    });
  }
  const settled = await Promise.allSettled(typed);
  // the same answers on the main thread
  const mr = await Minirank.load();
  await mr.index(docs);
  const reference = { fused: ids(await mr.searchFused(qs[0], OPTS)), reranked: ids(await mr.search(qs[0], OPTS)) };
  const out = {
    order,
    workers: mw.workers,
    events,
    first: { stage: first.stage, fused: stages[0][2], reranked: ids(first) },
    reference,
    settled: settled.map((s) => (s.status === 'fulfilled' ? s.value.stage : s.reason.code)),
    abortMessages: settled.filter((s) => s.status === 'rejected').map((s) => s.reason.message),
    outcomes,
    memory: await mw.memoryBytes(),
  };
  mw.terminate();
  mr.free();
  return out;
};

for (const [name, options] of [
  ['one worker', { workers: 1 }],
  ['one worker, cross-encoder deferred', { workers: 1, deferCrossEncoder: true }],
  ['a pool of two, cross-encoder deferred to the second', { workers: 2, deferCrossEncoder: true }],
]) {
  test(`progressive search: ${name}`, { timeout: 600_000 }, async () => {
    const { context, page, problems } = await blankPage(browser, server);
    if (options.deferCrossEncoder) {
      // the cross-encoder's file arrives 3 s late: the fused answer must not wait for it
      await context.route('**/models/cross-encoder/model.nnef.tar', async (route) => {
        await new Promise((r) => setTimeout(r, 3000));
        await route.continue();
      });
    }
    const r = await page.evaluate(inPage, [questions, options]);
    assert.deepEqual(problems, []);
    assert.equal(r.workers, options.workers);
    assert.deepEqual(r.order, { loading: !!options.deferCrossEncoder, early: true });
    assert.equal(r.first.stage, 'reranked');
    assert.deepEqual(r.first.fused, r.reference.fused, 'the fused answer is the main thread’s searchFused');
    assert.deepEqual(r.first.reranked, r.reference.reranked, 'the reranked answer is the main thread’s search');
    assert.deepEqual(
      r.events.map((e) => e.split(' ')[0]),
      ['fused', 'reranked'],
    );
    if (options.deferCrossEncoder) assert.equal(r.events[0], 'fused (cross-encoder loading)', 'the fused answer did not wait for the cross-encoder');
    // only the last query typed is reranked; each earlier one gave its fused answer and was aborted
    const n = questions.length;
    assert.deepEqual(r.settled, [...Array(n - 1).fill('Aborted'), 'reranked']);
    for (const m of r.abortMessages) assert.match(m, /superseded by a newer search/);
    assert.equal(r.outcomes.filter((o) => o.endsWith(':reranked')).length, 1);
    assert.equal(r.outcomes.filter((o) => o.endsWith(':fused')).length, n);
    assert.equal(r.memory.length, options.workers);
    if (options.workers === 2) {
      // the first worker holds the bi-encoder and the index, the second the cross-encoder only
      assert.ok(r.memory[0] > 0 && r.memory[1] > 0, String(r.memory));
    }
  });
}
