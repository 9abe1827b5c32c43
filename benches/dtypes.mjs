// The cross-encoder in each dtype of the Hub's ONNX exports against the shipped model: wasm in
// Node, one thread, reranking the 20 seed pairs of each seed question (scorePairs, the cross-encoder
// alone), median of 9 after a warm-up round. The files are the shipped cross-encoder in the Hub's
// layout (scripts/setup.sh hub). Figures on a shared VM move between runs: compare within a run.
//   bash scripts/setup.sh hub && node benches/dtypes.mjs        (after scripts/build-wasm.sh)

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../', import.meta.url);
const dir = join(process.env.MINIRANK_HUB_DIR || join(homedir(), '.cache/minirank/hub'), 'local/minirank-ce/resolve/main');
const docs = (await readFile(new URL('tests/fixtures/seed000.jsonl', root), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l).text);
const { questions } = JSON.parse(await readFile(new URL('tests/fixtures/seed000_questions.json', root), 'utf8'));
const { Scorer } = await import(new URL('pkg/minirank.js', root));
const [tokenizer, config] = await Promise.all([readFile(join(dir, 'tokenizer.json')), readFile(join(dir, 'config.json'))]);

const variants = { shipped: null, fp32: 'model.onnx', fp16: 'model_fp16.onnx', q8: 'model_quantized.onnx', int8: 'model_int8.onnx' };
const rows = [];
for (const [name, file] of Object.entries(variants)) {
  const t0 = performance.now();
  const crossEncoder = file && { model: await readFile(join(dir, 'onnx', file)), tokenizer, config };
  const scorer = await Scorer.load({ ...(crossEncoder && { crossEncoder }), cache: false });
  const load = performance.now() - t0;
  const times = [];
  for (let round = 0; round < 4; round++) {
    for (const q of questions) {
      const t = performance.now();
      scorer.scorePairs(q, docs);
      if (round > 0) times.push(performance.now() - t);
    }
  }
  times.sort((a, b) => a - b);
  rows.push({ name, load, rerank: times[times.length >> 1] });
  scorer.free();
}
const shipped = rows[0].rerank;
console.log('| cross-encoder | load (ms) | rerank 20 seed pairs, median (ms) | ÷ shipped |\n| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.name} | ${r.load.toFixed(0)} | ${r.rerank.toFixed(0)} | ${(r.rerank / shipped).toFixed(2)} |`);
