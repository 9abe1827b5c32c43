// The int8 kernels in headless Chromium, which has WebAssembly relaxed SIMD: each `int8Kernel`
// choice fetches its core (the relaxed build for 'relaxed-simd', the default one for 'simd128'),
// reports the kernel that runs, and the two kernels give the same rankings with logits and
// embeddings within 14-bit quantisation of each other (not bit for bit: a different kernel ran).
// Both match onnxruntime's logits on the cross-encoder's parity pairs. 'auto' keeps one of them;
// with the relaxed core unreachable it runs the default one.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { blankPage, root, start } from './harness.mjs';

/** onnxruntime's logits of the shipped cross-encoder on 63 pairs (tests/parity.rs reads them too). */
const PARITY = JSON.parse(await readFile(`${root}tests/fixtures/cross_encoder_reference.json`, 'utf8'));

const { server, browser } = await start();
const QUERY = 'How do I run CPU-bound Python code in parallel?';
const DOCS = [
  'The multiprocessing module runs Python functions in separate processes, side-stepping the GIL.',
  'asyncio is a library to write concurrent code using the async/await syntax.',
  'The global interpreter lock lets only one thread execute Python bytecode at a time.',
  'Dask scales pandas and NumPy workflows across the cores of one machine or a cluster.',
  'A list comprehension builds a new list from an iterable in one expression.',
  'concurrent.futures.ProcessPoolExecutor maps a function over inputs in worker processes.',
];

/** Loads the default models with `int8Kernel` in a fresh page; `block`: a file to refuse. */
async function run(int8Kernel, { block } = {}) {
  const { context, page, problems, requests } = await blankPage(browser, server);
  if (block)
    await context.route(
      (url) => url.pathname.endsWith(block),
      (route) => route.abort(),
    );
  const out = await page.evaluate(
    async ({ int8Kernel, QUERY, DOCS, parity }) => {
      const { Minirank, int8Kernel: kernel } = await import('/pkg/minirank.js');
      const mr = await Minirank.load({ int8Kernel, cache: false });
      const candidates = DOCS.map((text, i) => ({ id: String(i), text }));
      const r = await mr.rerank(QUERY, candidates, { topK: DOCS.length, fusion: { dense: 0, bm25: 0, crossEncoder: 1 } });
      const logits = DOCS.map((_, i) => r.hits.find((h) => h.id === String(i)).logit);
      const embedding = Array.from(await mr.embed(QUERY));
      const parityLogits = parity.pairs.map(([q, d]) => mr.scorePairs(q, [d], { maxLength: parity.max_length })[0]);
      mr.free();
      return { kernel: kernel(), logits, order: r.hits.map((h) => h.id), embedding, parityLogits };
    },
    { int8Kernel, QUERY, DOCS, parity: block ? { pairs: [], max_length: 0 } : { pairs: PARITY.pairs, max_length: PARITY.max_length } },
  );
  const cores = requests.filter((p) => p.endsWith('_bg.wasm')).map((p) => p.split('/').pop());
  await context.close();
  assert.deepEqual(problems, []);
  return { ...out, cores };
}

test('each int8 kernel runs from its core, with the same ranking and 14-bit-close values', { timeout: 600_000 }, async () => {
  const simd = await run('simd128');
  assert.equal(simd.kernel, 'simd128');
  assert.deepEqual(simd.cores, ['minirank_core_bg.wasm']);
  const relaxed = await run('relaxed-simd');
  assert.equal(relaxed.kernel, 'relaxed-simd');
  assert.deepEqual(relaxed.cores, ['minirank_core_relaxed_bg.wasm']);
  // against onnxruntime on the same model: 16-bit activations within 5e-3, 14-bit within 2e-2
  for (const [run, bound] of [
    [simd, 5e-3],
    [relaxed, 2e-2],
  ]) {
    const errors = run.parityLogits.map((x, i) => Math.abs(x - PARITY.logits[i]));
    const largest = Math.max(...errors);
    assert.ok(largest <= bound, `${run.kernel}: a logit ${largest} away from onnxruntime's`);
    console.log(`${run.kernel} against onnxruntime, ${errors.length} pairs: largest logit error ${largest.toExponential(2)}`);
  }
  assert.deepEqual(relaxed.order, simd.order);
  const worst = Math.max(...relaxed.logits.map((x, i) => Math.abs(x - simd.logits[i])));
  assert.ok(worst > 0, 'the relaxed kernel gave the very same logits: did it run?');
  assert.ok(worst < 2e-2, `logits differ by up to ${worst}: ${relaxed.logits} vs ${simd.logits}`);
  const dot = relaxed.embedding.reduce((s, x, i) => s + x * simd.embedding[i], 0);
  assert.ok(dot > 0.9999, `query embeddings' cosine ${dot}`);
  console.log(`relaxed vs simd128: largest logit difference ${worst.toExponential(2)}, embedding cosine ${dot.toFixed(7)}`);

  // 'auto' times both and keeps one (the relaxed one on CPUs with AVX-VNNI)
  const auto = await run('auto');
  assert.deepEqual(auto.cores, ['minirank_core_relaxed_bg.wasm']);
  assert.ok(['simd128', 'relaxed-simd'].includes(auto.kernel), auto.kernel);
  assert.deepEqual(auto.order, simd.order);
  console.log(`'auto' chose ${auto.kernel} on this machine`);

  // the relaxed core unreachable (offline, with only the default core cached): the default one runs
  const fallback = await run('auto', { block: 'minirank_core_relaxed_bg.wasm' });
  assert.equal(fallback.kernel, 'simd128');
  assert.deepEqual(fallback.cores, ['minirank_core_relaxed_bg.wasm', 'minirank_core_bg.wasm']);
  assert.deepEqual(fallback.logits, simd.logits);
});

test('a kernel that is not one of the three is refused', async () => {
  const { context, page } = await blankPage(browser, server);
  const error = await page.evaluate(async () => {
    const { Minirank } = await import('/pkg/minirank.js');
    return Minirank.load({ int8Kernel: 'avx512' }).then(
      () => null,
      (e) => ({ name: e.name, code: e.code, message: e.message }),
    );
  });
  await context.close();
  assert.equal(error.code, 'InvalidOption');
  assert.match(error.message, /int8Kernel.*'auto', 'simd128', 'relaxed-simd'/);
});
