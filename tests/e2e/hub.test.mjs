// Models by Hub id in headless Chromium: a Hub with the Hugging Face layout answered by the test
// (the page's own origin under /hub/, as a mirror set by `hubUrl` would be), serving the tiny BERT
// cross-encoder in the Hub's dtypes (tests/fixtures/tiny/dtypes). Loaded on the main thread and in
// a pool of two workers (whose second worker builds the cross-encoder from the same options); the
// files are cached with the Cache API under their URLs, so a second load fetches none of them.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { blankPage, root, start } from './harness.mjs';

const tiny = `${root}tests/fixtures/tiny/`;
const bert = JSON.parse(await readFile(`${tiny}arch/reference.json`, 'utf8')).bert;
const dtypes = JSON.parse(await readFile(`${tiny}dtypes/reference.json`, 'utf8'));
const FILES = {
  'onnx/model.onnx': 'arch/bert-ce/model.onnx',
  'onnx/model_fp16.onnx': 'dtypes/model_fp16.onnx',
  'onnx/model_quantized.onnx': 'dtypes/model_quantized.onnx',
  'tokenizer.json': 'arch/bert-ce/tokenizer.json',
  'config.json': 'arch/bert-ce/config.json',
};
const { server, browser } = await start();

test('a Hub model by id: main thread and a worker pool, cached under its URLs', { timeout: 600_000 }, async () => {
  const { context, page, problems } = await blankPage(browser, server);
  const served = [];
  await context.route(
    (url) => url.pathname.startsWith('/hub/'),
    async (route) => {
      const path = new URL(route.request().url()).pathname;
      served.push(path);
      const m = path.match(/^\/hub\/test\/tiny-ce\/resolve\/main\/(.+)$/);
      if (!m || !FILES[m[1]]) return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"Entry not found"}' });
      return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: await readFile(`${tiny}${FILES[m[1]]}`) });
    },
  );
  const pairs = bert.pairs.slice(0, 4);
  const run = (workers) =>
    page.evaluate(
      async ({ pairs, maxLength, workers }) => {
        const options = { crossEncoder: 'test/tiny-ce', dtype: 'fp16', hubUrl: '/hub' };
        const q = pairs[0][0];
        const docs = pairs.map((p) => p[1]);
        if (!workers) {
          const { Scorer } = await import('/pkg/minirank.js');
          const scorer = await Scorer.load(options);
          const logits = Array.from(scorer.scorePairs(q, docs, { maxLength }));
          scorer.free();
          return logits;
        }
        const { MinirankWorker } = await import('/pkg/worker.js');
        const w = await MinirankWorker.load({ ...options, workers });
        const r = await w.rerank(q, docs, { maxLength, topK: docs.length, fusion: { dense: 0, bm25: 0, crossEncoder: 1 } });
        // the Hub cross-encoder's own fusion weight (its config.json gives none: 1) in the pool too
        await w.index(docs);
        const { weights } = await w.search(q, { maxLength, topK: 2 });
        w.terminate();
        if (weights.crossEncoder !== 1) throw new Error(`fusion weights ${JSON.stringify(weights)}`);
        return docs.map((d) => r.hits.find((h) => h.text === d).logit);
      },
      { pairs, maxLength: bert.max_length, workers },
    );
  const want = dtypes.files['model_fp16.onnx'].logits.slice(0, 4);
  const first = await run(0);
  assert.ok(
    first.every((x, i) => Math.abs(x - want[i]) <= 5e-3),
    `${first} vs ${want}`,
  );
  const fetched = served.length;
  assert.deepEqual(served.slice().sort(), [
    '/hub/test/tiny-ce/resolve/main/config.json',
    '/hub/test/tiny-ce/resolve/main/onnx/model_fp16.onnx',
    '/hub/test/tiny-ce/resolve/main/tokenizer.json',
  ]);
  // a second load, and a pool of two workers, read the files from the Cache API
  assert.deepEqual(await run(0), first);
  const pooled = await run(2);
  assert.ok(
    pooled.every((x, i) => Math.abs(x - first[i]) <= 1e-4),
    `${pooled} vs ${first}`,
  );
  assert.equal(served.length, fetched, `fetched again: ${served.slice(fetched)}`);
  assert.deepEqual(problems, []);
});

test("a bi-encoder's pooling reaches a worker as it reaches the main thread", { timeout: 600_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const [main, worker, mean] = await page.evaluate(async () => {
    const { Minirank } = await import('/pkg/minirank.js');
    const { MinirankWorker } = await import('/pkg/worker.js');
    const text = 'The GIL serialises threads.';
    const embed = async (m) => {
      const v = Array.from(await m.embed(text));
      m.terminate ? m.terminate() : m.free();
      return v;
    };
    return [
      await embed(await Minirank.load({ biEncoder: { pooling: 'cls' }, deferCrossEncoder: true })),
      await embed(await MinirankWorker.load({ biEncoder: { pooling: 'cls' }, workers: 1, deferCrossEncoder: true })),
      await embed(await Minirank.load({ deferCrossEncoder: true })),
    ];
  });
  assert.ok(
    main.every((x, i) => Math.abs(x - worker[i]) <= 1e-6),
    'the same vector in a worker',
  );
  assert.ok(
    main.some((x, i) => Math.abs(x - mean[i]) > 1e-3),
    'CLS pooling, not the mean',
  );
  assert.deepEqual(problems, []);
});
