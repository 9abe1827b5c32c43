#!/usr/bin/env node
// Pools the samples of several `run.mjs --json FILE` runs into one table (markdown):
//   node benches/relaxed-simd/summarize.mjs run1.json run2.json ...
// min / median over every sample of every run; "paired": median over rounds of (kernel ÷ (a) of
// the same round).
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (!runs.length) {
  console.error('usage: summarize.mjs RUN.json...');
  process.exit(2);
}
const med = (v) => {
  const s = v.slice().sort((p, q) => p - q);
  return s[s.length >> 1];
};
const names = { a: '(a) i16×i8 `dot_i16x8_s`', b: '(b) relaxed, 7-bit x', c: '(c) relaxed, 14-bit x hi/lo', c2: '(c2) as (c), 8 acc.' };
const engines = {};
for (const r of runs) {
  const all = {
    [`Node ${r.node.version} (${r.node.flag})`]: r.node,
    ...Object.fromEntries(Object.entries(r.chromium.runs ?? {}).map(([k, v]) => [`${k} ${r.chromium.version}`, v])),
  };
  for (const [e, x] of Object.entries(all)) {
    if (x.error) continue;
    for (const res of x.results) {
      const key = `${e}\t${res.k}`;
      engines[key] ??= { fails: 0, kinds: {} };
      engines[key].kinds[res.kind] ??= [];
      engines[key].kinds[res.kind].push(...res.samples);
    }
    for (const k of new Set(x.results.map((q) => q.k))) engines[`${e}\t${k}`].fails += x.failures.filter((f) => f.includes(`k=${k} `)).length;
  }
}
console.log(`${runs.length} runs, ${runs[0].date.slice(0, 10)}; load averages (1/5/15 min) at the start of each: ${runs.map((r) => r.load[0]).join(' | ')}\n`);
console.log('| engine | K | kernel | ns/tile min | ns/tile median | MAC/ns (at min) | ÷(a) min | ÷(a) median | ÷(a) paired |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
for (const [key, { kinds }] of Object.entries(engines)) {
  const [e, k] = key.split('\t');
  const a = kinds.a;
  for (const [kind, v] of Object.entries(kinds)) {
    const min = Math.min(...v),
      m = med(v);
    const paired = med(v.map((t, i) => t / a[i]));
    console.log(
      `| ${e} | ${k} | ${names[kind]} | ${min.toFixed(0)} | ${m.toFixed(0)} | ${((8 * k) / min).toFixed(1)} | ${(min / Math.min(...a)).toFixed(2)} | ${(m / med(a)).toFixed(2)} | ${paired.toFixed(2)} |`,
    );
  }
}
console.log('\nCorrectness (tiles that differ from the scalar reference, all runs and kernels):');
for (const [key, { fails }] of Object.entries(engines)) console.log(`- ${key.replace('\t', ', K=')}: ${fails}`);
