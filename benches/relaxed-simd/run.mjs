#!/usr/bin/env node
// Builds the micro-benchmark's wasm and runs it in Node and in headless Chromium; prints a table.
//
//   node benches/relaxed-simd/run.mjs [--no-build] [--rounds N] [--target-ms MS] [--no-chromium] [--json FILE]
//
// ÷(a) min: min ÷ (a)'s min; ÷(a) med: median ÷ (a)'s median; ÷(a) paired: the median over rounds
// of each sample ÷ (a)'s sample of the same round (the kernels run interleaved, so this ratio is the
// one least moved by other work on the machine).
//
// CARGO_TARGET_DIR is honoured (default: benches/relaxed-simd/target).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNELS, runBench } from './harness.mjs';
import { numerics } from './numerics.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args[i + 1];
};
const cfg = { rounds: Number(opt('--rounds', 21)), targetMs: Number(opt('--target-ms', 15)) };
const targetDir = process.env.CARGO_TARGET_DIR ?? join(here, 'target');
const wasmPath = join(targetDir, 'wasm32-unknown-unknown/release/relaxed_simd_bench.wasm');

// --node-child: run the Node half only and print JSON (spawned with the V8 flag when needed)
if (args.includes('--node-child')) {
  const r = await runBench(readFileSync(wasmPath), cfg);
  process.stdout.write(JSON.stringify(r));
  process.exit(0);
}

if (!args.includes('--no-build')) {
  const b = spawnSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown'], {
    cwd: here,
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: targetDir, RUSTFLAGS: '-C target-feature=+simd128,+relaxed-simd' },
  });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const bytes = readFileSync(wasmPath);
const load = [
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' '),
];
const flags =
  readFileSync('/proc/cpuinfo', 'utf8')
    .match(/^flags\s*:(.*)$/m)?.[1]
    .trim()
    .split(/\s+/) ?? [];
const cpu = readFileSync('/proc/cpuinfo', 'utf8')
  .match(/^model name\s*:(.*)$/m)?.[1]
  .trim();

// Node: does this V8 validate relaxed SIMD as it is, or only behind the flag?
const FLAG = '--experimental-wasm-relaxed-simd';
let nodeFlag = 'none';
let node;
if (WebAssembly.validate(bytes)) {
  node = await runBench(bytes, cfg);
} else {
  nodeFlag = FLAG;
  const c = spawnSync(process.execPath, [FLAG, fileURLToPath(import.meta.url), '--node-child', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (c.status !== 0) {
    console.error(c.stderr);
    node = { error: `node ${FLAG} failed: ${c.stderr.split('\n')[0]}` };
  } else node = JSON.parse(c.stdout);
}
load.push(
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' '),
);

// Chromium, through playwright-core from the repository's node_modules; the page is served by a
// route (no server: Playwright answers) on localhost, with COOP/COEP so that the page is
// cross-origin isolated and performance.now() is not coarsened to 100 µs.
let chromiumVersion = null;
async function runChromium(extra) {
  try {
    const require = createRequire(join(here, '../../package.json'));
    const pw = require('playwright-core');
    const browser = await pw.chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new', ...extra] });
    chromiumVersion = browser.version();
    const page = await browser.newPage();
    const files = {
      '/': ['text/html', '<!doctype html><title>relaxed-simd</title>'],
      '/harness.mjs': ['text/javascript', readFileSync(join(here, 'harness.mjs'))],
      '/bench.wasm': ['application/wasm', bytes],
    };
    await page.route('http://localhost:8765/**', (route) => {
      const f = files[new URL(route.request().url()).pathname];
      return f
        ? route.fulfill({
            status: 200,
            contentType: f[0],
            body: f[1],
            headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
          })
        : route.fulfill({ status: 404, body: '' });
    });
    page.on('console', (m) => console.error('[chromium]', m.text()));
    await page.goto('http://localhost:8765/');
    const r = await page.evaluate(async (cfg) => {
      const { runBench } = await import('/harness.mjs');
      const bytes = await (await fetch('/bench.wasm')).arrayBuffer();
      if (!WebAssembly.validate(bytes)) return { error: 'WebAssembly.validate failed (relaxed SIMD not enabled?)' };
      return runBench(bytes, cfg);
    }, cfg);
    await browser.close();
    return r;
  } catch (e) {
    return { error: String(e).split('\n')[0] };
  }
}
// Chromium as shipped (V8 uses AVX-VNNI's vpdpbusd where the CPU has it), and with V8 told not to,
// as on a CPU without AVX-VNNI (the pmaddubsw + pmaddwd + paddd lowering).
const engines = [['Node', node]];
if (!args.includes('--no-chromium')) {
  engines.push(['Chromium', await runChromium([])]);
  load.push(
    loadavg()
      .map((v) => v.toFixed(2))
      .join(' '),
  );
  engines.push(['Chromium --js-flags=--no-enable-avx-vnni', await runChromium(['--js-flags=--no-enable-avx-vnni'])]);
  load.push(
    loadavg()
      .map((v) => v.toFixed(2))
      .join(' '),
  );
}

// Report
const pick = ['avx2', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx_vnni', 'amx_int8'];
console.log(`\nCPU: ${cpu}; flags: ${pick.map((f) => `${f}=${flags.includes(f) ? 'yes' : 'no'}`).join(' ')}`);
console.log(`Node ${process.version} (V8 ${process.versions.v8}), relaxed SIMD flag needed: ${nodeFlag}`);
console.log(`Chromium: ${chromiumVersion ?? 'not run'}`);
console.log(`load averages (1/5/15 min) before Node / after Node / after each Chromium run: ${load.join(' | ')}`);
const names = { a: '(a) i16 × i8, dot_i16x8_s', b: '(b) relaxed dot, 7-bit x', c: '(c) relaxed, 14-bit x (hi/lo)', c2: '(c2) as (c), 8 accumulators' };
for (const [engine, r] of engines) {
  if (!r) continue;
  if (r.error) {
    console.log(`\n${engine}: ${r.error}`);
    continue;
  }
  console.log(
    `\n${engine}: correctness ${r.failures.length ? `FAILED (${r.failures.length} tiles), e.g.:\n  ${r.failures.slice(0, 3).join('\n  ')}` : 'all kernels equal the scalar reference'}`,
  );
  console.log(`${engine}: relaxed dot with 7-bit b, accumulator [10,20,30,40]: ${r.sanity.ok ? 'right' : `WRONG: got ${r.sanity.got}, want ${r.sanity.want}`}`);
  console.log(`${engine}: relaxed dot on second-operand bytes with the top bit set: ${r.probe.says} (got ${r.probe.got}); timer isolated: ${r.timerIsolated}`);
  console.log(
    `${'K'.padStart(5)}  ${'kernel'.padEnd(31)} ${'ns/tile min'.padStart(11)} ${'median'.padStart(8)} ${'MAC/ns'.padStart(7)} ${'÷(a) min'.padStart(8)} ${'÷(a) med'.padStart(8)} ${'÷(a) paired'.padStart(11)}`,
  );
  for (const k of [...new Set(r.results.map((x) => x.k))]) {
    const rows = Object.fromEntries(r.results.filter((x) => x.k === k).map((x) => [x.kind, x]));
    for (const kind of KERNELS) {
      const x = rows[kind];
      console.log(
        `${String(k).padStart(5)}  ${names[kind].padEnd(31)} ${x.min.toFixed(1).padStart(11)} ${x.median.toFixed(1).padStart(8)} ${x.macsPerNs.toFixed(1).padStart(7)} ${(x.min / rows.a.min).toFixed(3).padStart(8)} ${(x.median / rows.a.median).toFixed(3).padStart(8)} ${x.pairedRatio.toFixed(3).padStart(11)}`,
      );
    }
  }
}
const num = numerics();
console.log('\nActivation quantisation error (weights int8 in all cases; relative RMS error of the dot products vs f64 with the same int8 weights):');
for (const row of num) console.log(`  ${row.case.padEnd(44)} ${row.cells.map(([q, e]) => `${q} ${e.toExponential(1)}`).join('  ')}`);
const json = opt('--json', null);
if (json)
  writeFileSync(
    json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpu,
        flags: pick.filter((f) => flags.includes(f)),
        node: { version: process.version, v8: process.versions.v8, flag: nodeFlag, ...node },
        chromium: { version: chromiumVersion, runs: Object.fromEntries(engines.slice(1)) },
        load,
        numerics: num,
      },
      null,
      1,
    ),
  );
