// Progressive search on the main thread (Node, the built package): `search(query, { onStage })`
// answers with the fused stage and then the reranked one; a newer progressive search aborts an
// older one's rerank; `deferCrossEncoder` answers the fused stage before the cross-encoder is there.
//   node --test tests/node/progressive.test.mjs        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const { Minirank } = await import(new URL('pkg/minirank.js', root));
const seedDocs = (await readFile(new URL('tests/fixtures/seed000.jsonl', root), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const { questions } = JSON.parse(await readFile(new URL('tests/fixtures/seed000_questions.json', root), 'utf8'));
const ids = (hits) => hits.map((h) => h.id);

const mr = await Minirank.load();
await mr.index(seedDocs);
const OPTIONS = { candidates: 20, topK: 5 };

test('a progressive search gives the fused answer, then the reranked one it resolves to', async () => {
  for (const q of questions) {
    const stages = [];
    const result = await mr.search(q, { ...OPTIONS, onStage: (r) => stages.push(r) });
    assert.deepEqual(
      stages.map((s) => s.stage),
      ['fused', 'reranked'],
    );
    assert.equal(stages[1], result);
    const [fused, reranked] = stages;
    // the fused answer is `searchFused`, and the order of the fused score without its cross-encoder term
    assert.deepEqual(fused, await mr.searchFused(q, OPTIONS));
    const noCE = await mr.search(q, { ...OPTIONS, fusion: { crossEncoder: 0 } });
    assert.deepEqual(ids(fused.hits), ids(noCE.hits), q);
    for (const h of fused.hits) {
      assert.equal(h.logit, undefined);
      assert.equal(h.contributions.crossEncoder, 0);
    }
    assert.deepEqual(fused.candidates, reranked.candidates);
    // the reranked answer is the plain search's (logits now from the score cache)
    const plain = await mr.search(q, OPTIONS);
    assert.equal(plain.stage, 'reranked');
    assert.deepEqual(ids(reranked.hits), ids(plain.hits), q);
    assert.deepEqual(
      reranked.hits.map((h) => h.logit),
      plain.hits.map((h) => h.logit),
    );
  }
});

test('a newer progressive search aborts the older one still reranking', async () => {
  mr.setCacheCapacity(0); // every search scores its candidates
  try {
    const seen = { first: [], second: [] };
    const first = mr.search(questions[0], { ...OPTIONS, onStage: (r) => seen.first.push(r.stage) });
    // the first one's fused answer comes; its rerank yields between batches, and the next query supersedes it
    while (!seen.first.length) await new Promise((r) => setTimeout(r, 0));
    const second = mr.search(questions[1], { ...OPTIONS, onStage: (r) => seen.second.push(r.stage) });
    await assert.rejects(first, (e) => e.name === 'MinirankError' && e.code === 'Aborted' && /superseded by a newer search/.test(e.message));
    const r = await second;
    assert.equal(r.stage, 'reranked');
    assert.deepEqual(seen, { first: ['fused'], second: ['fused', 'reranked'] });
    // a plain search is not superseded, and does not supersede
    const third = mr.search(questions[2], { ...OPTIONS, onStage: () => {} });
    const plain = await mr.search(questions[0], OPTIONS);
    assert.equal((await third).stage, 'reranked');
    assert.equal(plain.stage, 'reranked');
  } finally {
    mr.setCacheCapacity(10_000);
  }
});

test("a progressive search stops at its signal's abort, and checks onStage", async () => {
  const controller = new AbortController();
  const stages = [];
  const run = mr.search(questions[0], {
    ...OPTIONS,
    signal: controller.signal,
    onStage: (r) => {
      stages.push(r.stage);
      controller.abort(new Error('the page closed the search box'));
    },
  });
  await assert.rejects(run, (e) => e.code === 'Aborted' && /the page closed the search box/.test(e.message));
  assert.deepEqual(stages, ['fused']);
  await assert.rejects(mr.search(questions[0], { onStage: 'no' }), (e) => e.code === 'InvalidOption' && /onStage/.test(e.message));
});

test('with deferCrossEncoder the fused answer comes before the cross-encoder is loaded', async () => {
  const events = [];
  const late = await Minirank.load({
    deferCrossEncoder: true,
    onProgress: ({ stage, loaded, total }) => stage.startsWith('compile') && loaded === total && events.push(stage),
  });
  events.push('loaded');
  await late.index(seedDocs);
  const stages = [];
  const run = late.search(questions[0], { ...OPTIONS, onStage: (r) => stages.push([r.stage, events.includes('compile.crossEncoder')]) });
  const fused = await late.searchFused(questions[0], OPTIONS);
  await late.crossEncoderReady;
  events.push('ready');
  const result = await run;
  assert.deepEqual(events, ['compile', 'loaded', 'compile.crossEncoder', 'ready']);
  assert.deepEqual(stages[0], ['fused', false], 'the fused answer did not wait for the cross-encoder');
  assert.equal(stages[1][0], 'reranked');
  assert.deepEqual(fused, await mr.searchFused(questions[0], OPTIONS));
  assert.deepEqual(ids(result.hits), ids((await mr.search(questions[0], OPTIONS)).hits));
  // a plain search waits for it too; scorePairs works once it is there
  assert.equal((await late.search(questions[1], OPTIONS)).stage, 'reranked');
  assert.equal(late.scorePairs(questions[1], ['a text']).length, 1);
  late.free();
});

test('deferCrossEncoder: a bad value is refused; scorePairs before the cross-encoder is NoCrossEncoder', async () => {
  await assert.rejects(Minirank.load({ deferCrossEncoder: 'yes' }), (e) => e.code === 'InvalidOption' && /deferCrossEncoder/.test(e.message));
  const late = await Minirank.load({ deferCrossEncoder: true });
  assert.throws(
    () => late.scorePairs('q', ['a text']),
    (e) => e.code === 'NoCrossEncoder',
  );
  await late.crossEncoderReady;
  late.free();
});

test('a search made while the cross-encoder loads sees the index as it was when it was made', async () => {
  const late = await Minirank.load({ deferCrossEncoder: true });
  let loaded = false;
  late.crossEncoderReady.then(() => {
    loaded = true;
  });
  await late.index(seedDocs);
  const early = late.search(questions[0], { candidates: 20, topK: 20 });
  const earlyRerank = late.rerank(questions[0], ['first text', 'second text']);
  late.remove('gil');
  await late.index([{ id: 'late', text: questions[0] }]);
  assert.equal(loaded, false, 'the calls above were made while the cross-encoder was loading');
  const r = await early;
  assert.equal(r.hits.length, 20);
  assert.ok(r.hits.some((h) => h.id === 'gil') && !r.hits.some((h) => h.id === 'late'), r.hits.map((h) => h.id).join());
  assert.equal((await earlyRerank).hits.length, 2);
  const after = await late.search(questions[0], { candidates: 20, topK: 20 });
  assert.ok(after.hits.some((h) => h.id === 'late') && !after.hits.some((h) => h.id === 'gil'));
  late.free();
});
