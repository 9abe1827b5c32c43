// A long session in Node: `MINIRANK_SOAK_CALLS` (default 200; scripts/soak.sh: 10,000) varied search
// calls on one instance, one in ten invalid. Prints latency and memory per block of calls.

import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { checkSoak } from '../soak/check.mjs';
import { soak } from '../soak/soak.js';

const root = new URL('../../', import.meta.url);
const { Minirank, wasmMemoryBytes } = await import(new URL('pkg/minirank.js', root));
const docs = (await readFile(new URL('tests/fixtures/seed000.jsonl', root), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const { questions } = JSON.parse(await readFile(new URL('tests/fixtures/seed000_questions.json', root), 'utf8'));
const calls = Number(process.env.MINIRANK_SOAK_CALLS || 200);

test(`soak in Node: ${calls} search calls on one instance`, { timeout: 3_600_000 }, async (t) => {
  const mr = await Minirank.load();
  await mr.index(docs);
  const block = Math.max(50, Math.floor(calls / 10));
  const r = await soak(mr, {
    calls,
    questions,
    memory: wasmMemoryBytes,
    block,
    onBlock: (b) => t.diagnostic(`node: calls ${b.upTo}: p50 ${b.p50} ms, p99 ${b.p99} ms, wasm memory ${(b.memory / 1e6).toFixed(1)} MB`),
  });
  checkSoak(r, calls);
  mr.free();
});
