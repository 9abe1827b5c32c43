// A long session of search calls against one instance, as a search box makes them: varied queries and
// options, one call in ten invalid. Runs anywhere (Node, a page, through a worker): it only calls
// `search` on what it is given. Used by the soak tests (small counts) and `scripts/soak.sh` (10,000).

const WORDS = (
  'process thread pool queue event loop parallel interpreter lock memory share task future async await ' +
  'coroutine worker cpu bound io network file socket python speed numba compile'
).split(' ');

/** A deterministic generator (mulberry32), so that every run makes the same calls. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Invalid calls, each with the code it must be refused with. */
const INVALID = [
  [(q) => [q, { topK: 0 }], 'InvalidOption'],
  [(q) => [q, { candidates: -3 }], 'InvalidOption'],
  [(q) => [q, { topk: 3 }], 'InvalidOption'],
  [(q) => [q, { retrieval: 'sparse' }], 'InvalidOption'],
  [(q) => [q, { candidates: 5, topK: 9 }], 'InvalidOption'],
  [(q) => [q, { fusion: { dense: 'high' } }], 'InvalidOption'],
  [() => ['   ', {}], 'EmptyInput'],
  [(q) => [q, { candidates: 1e9, topK: 2.5 }], 'InvalidOption'],
];

/** The i-th call: `{ args, invalid: code | null }`. */
export function call(i, questions, random) {
  const words = Array.from({ length: 1 + Math.floor(random() * 6) }, () => WORDS[Math.floor(random() * WORDS.length)]);
  const query = random() < 0.3 ? `${questions[i % questions.length]} ${words.join(' ')}` : words.join(' ');
  if (i % 10 === 9) {
    const [make, code] = INVALID[Math.floor(i / 10) % INVALID.length];
    return { args: make(query), invalid: code };
  }
  const options = {
    candidates: 5 + Math.floor(random() * 10),
    topK: 1 + Math.floor(random() * 5),
    retrieval: ['hybrid', 'dense', 'bm25'][Math.floor(random() * 3)],
  };
  if (random() < 0.2) options.fusion = { crossEncoder: random() };
  if (random() < 0.1) options.signals = { diversity: { weight: 0.2 } };
  return { args: [query, options], invalid: null };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Run `calls` searches on `mr` (a `Minirank` or `MinirankWorker`). `memory()` gives the wasm memory
 * in bytes (a number, or an array for a pool, summed). Returns
 * `{ calls, unexpected: [..], refused, blocks: [{ upTo, p50, p99, memory }], seedBefore, seedAfter }`.
 */
export async function soak(mr, { calls, questions, memory, block = 1000, seed = 1, onBlock }) {
  const random = rng(seed);
  const seedAnswers = async () => {
    const out = [];
    for (const q of questions) out.push((await mr.search(q, { candidates: 20, topK: 5 })).hits.map((h) => [h.id, Math.round(h.fused * 1e4) / 1e4]));
    return out;
  };
  const bytes = async () => {
    const m = await memory();
    return Array.isArray(m) ? m.reduce((a, b) => a + b, 0) : m;
  };
  const report = { calls, unexpected: [], refused: 0, blocks: [], seedBefore: await seedAnswers() };
  let times = [];
  for (let i = 0; i < calls; i++) {
    const { args, invalid } = call(i, questions, random);
    const t0 = performance.now();
    try {
      const r = await mr.search(...args);
      if (invalid) report.unexpected.push({ i, args, problem: `accepted; ${invalid} expected` });
      else if (!Array.isArray(r.hits) || r.hits.length > args[1].topK)
        report.unexpected.push({ i, args, problem: `bad result: ${r.hits && r.hits.length} hits` });
    } catch (e) {
      if (invalid && e && e.name === 'MinirankError' && e.code === invalid) report.refused++;
      else report.unexpected.push({ i, args, problem: `${e && e.name} ${e && e.code}: ${e && e.message}` });
    }
    times.push(performance.now() - t0);
    if ((i + 1) % block === 0 || i + 1 === calls) {
      times.sort((a, b) => a - b);
      const b = { upTo: i + 1, p50: Math.round(quantile(times, 0.5) * 10) / 10, p99: Math.round(quantile(times, 0.99) * 10) / 10, memory: await bytes() };
      report.blocks.push(b);
      if (onBlock) onBlock(b);
      times = [];
    }
  }
  report.seedAfter = await seedAnswers();
  return report;
}
