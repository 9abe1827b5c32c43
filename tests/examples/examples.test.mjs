// The example apps of examples/, each installed from the packed package (pkg/minirank-<version>.tgz,
// `scripts/build-wasm.sh --pack`) the way a user installs it, built with its own bundler and driven
// in headless Chromium (Node: run). Every app runs the README's flow on the seed corpus, on the main
// thread and in a worker; all must give the same answers, and a reload must fetch no model and no
// wasm again (they come from the Cache API).
//   node --test tests/examples/
// The apps' own dependencies (vite, webpack) are installed once per lockfile into
// $MINIRANK_CACHE/examples/<app>/ (npm's cache beside them), so a repeat run installs only minirank.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cache = process.env.MINIRANK_CACHE || join(homedir(), '.cache/minirank');
const version = JSON.parse(readFileSync(join(root, 'pkg/package.json'), 'utf8')).version;
const tarball = join(root, `pkg/minirank-${version}.tgz`);
const npmFlags = ['--cache', join(cache, 'npm'), '--no-audit', '--no-fund', '--loglevel=error'];

function npm(dir, ...args) {
  execFileSync('npm', [...args, ...npmFlags], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The app's folder under the cache: its dependencies (once per lockfile), its files, and minirank from the tarball. */
function prepare(name) {
  assert.ok(existsSync(tarball), `${tarball} is missing: run scripts/build-wasm.sh --pack`);
  const src = join(root, 'examples', name);
  const dir = join(cache, 'examples', name);
  const lock = join(src, 'package-lock.json');
  const stamp = join(dir, '.deps-sha256');
  const want = existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : 'none';
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    if (existsSync(lock)) {
      for (const f of ['package.json', 'package-lock.json']) writeFileSync(join(dir, f), readFileSync(join(src, f))); // as files, not links
      // `npm install` with the lockfile, not `npm ci`: vite 8's optional Windows-only dependency is
      // not in every registry mirror, and `ci` refuses a lockfile without it
      npm(dir, 'install');
    }
    writeFileSync(stamp, want);
  }
  // the app's files as a user has them (shared/ is a symlink in the repository: copied as files)
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  cpSync(src, dir, { recursive: true, dereference: true, filter: (p) => !/\/(node_modules|dist)(\/|$)/.test(p.slice(src.length)) });
  npm(dir, 'install', '--no-save', tarball);
  return dir;
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.tar': 'application/x-tar',
  '.css': 'text/css',
};

/** A static server of `dir` (no caching headers: a reload would revalidate, so only the Cache API avoids a fetch). */
function serve(dir) {
  const requests = [];
  const sent = { bytes: 0 };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    let file = normalize(join(dir, path));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    sent.bytes += statSync(file).size;
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, requests, sent, close: () => server.close() });
    }),
  );
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
after(() => browser.close());

const heavy = /\.(tar|wasm)$|tokenizer[^/]*\.json$|config[^/]*\.json$/;

/**
 * Open the app, wait for its result, reload it and wait again. Returns both results and the
 * model/wasm requests of each visit (seen by the browser, workers included).
 */
async function visitTwice(url, sent) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  let requests = [];
  context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  const result = async () => {
    await page.waitForFunction(() => globalThis.minirankExample, null, { timeout: 300_000 });
    return page.evaluate(() => globalThis.minirankExample);
  };
  await page.goto(url);
  const first = await result();
  const firstRequests = requests;
  const firstBytes = sent && sent.bytes;
  requests = [];
  await page.reload();
  const second = await result();
  const reloadRequests = requests;
  await context.close();
  return { first, second, firstRequests, reloadRequests, problems, firstBytes, reloadBytes: sent && sent.bytes - firstBytes };
}

/** What the seed questions must give (the README's flow, default options). */
function checkSeed(ids, what) {
  assert.equal(ids.length, 3, what);
  assert.ok(['multiprocessing', 'gil', 'concurrent-futures', 'numba'].includes(ids[0][0]), `${what}: ${ids[0]}`);
  assert.equal(ids[1][0], 'asyncio', `${what}: ${ids[1]}`);
  assert.equal(ids[2][0], 'asyncio-queue', `${what}: ${ids[2]}`);
  assert.ok(ids[2].includes('queue-queue'), `${what}: ${ids[2]}`);
}

const answers = {};

/** The checks every browser app passes. */
function checkApp(name, visit, t) {
  if (visit.firstBytes !== undefined) {
    const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
    t.diagnostic(
      `${name}: first visit ${visit.firstRequests.length} requests, ${mb(visit.firstBytes)}; reload ${visit.reloadRequests.length} requests, ${mb(visit.reloadBytes)}`,
    );
  }
  assert.deepEqual(visit.problems, [], `${name}: page errors`);
  for (const [when, r] of [
    ['first visit', visit.first],
    ['reload', visit.second],
  ]) {
    assert.equal(r.ok, true, `${name} (${when}): ${JSON.stringify(r)}`);
    checkSeed(r.main, `${name} main thread (${when})`);
    assert.deepEqual(r.worker, r.main, `${name} (${when}): the worker answers as the main thread`);
  }
  // the package's models are tract NNEF archives (bundlers keep the `.tar` extension when they hash names)
  const models = visit.firstRequests.filter((p) => p.endsWith('.tar'));
  assert.equal(models.length, 2, `${name}: the first visit downloads both models once: ${visit.firstRequests.join(' ')}`);
  assert.ok(
    visit.firstRequests.some((p) => p.endsWith('.wasm')),
    `${name}: the wasm is fetched: ${visit.firstRequests.join(' ')}`,
  );
  // the default models are NNEF: nothing of the ONNX core (its wasm, its glue's chunk) is fetched
  assert.deepEqual(
    visit.firstRequests.filter((p) => /onnx/i.test(p)),
    [],
    `${name}: the ONNX core stays on the server`,
  );
  assert.deepEqual(
    visit.reloadRequests.filter((p) => heavy.test(p)),
    [],
    `${name}: a reload fetches no model and no wasm`,
  );
  answers[name] = visit.first.main;
}

test('the examples carry the seed corpus of the tests', async () => {
  const { documents, questions } = await import(join(root, 'examples/shared/seed.js'));
  const fixture = readFileSync(join(root, 'tests/fixtures/seed000.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.deepEqual(documents, fixture);
  assert.deepEqual(questions, JSON.parse(readFileSync(join(root, 'tests/fixtures/seed000_questions.json'), 'utf8')).questions);
});

test('Node: the README flow as an ES module and with require, models read from the package', { timeout: 600_000 }, () => {
  const dir = prepare('node');
  const run = (file) =>
    JSON.parse(
      execFileSync('node', [file], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .trim()
        .split('\n')
        .pop(),
    );
  const esm = run('search.mjs');
  checkSeed(esm, 'node search.mjs');
  assert.deepEqual(run('search.cjs'), esm, 'require gives what import gives');
  answers.node = esm;
});

/**
 * Prepare the app, run its build (`node <args>` in its folder, if any), serve `served` (a folder of
 * it) and visit it twice.
 */
async function buildAndVisit(t, name, { build, served = '.', built } = {}) {
  const dir = prepare(name);
  if (build) execFileSync('node', build, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built) built(dir);
  const server = await serve(join(dir, served));
  try {
    checkApp(name, await visitTwice(server.url, server.sent), t);
  } finally {
    server.close();
  }
  return dir;
}

test('no bundler: the package served as it is, through an import map', { timeout: 600_000 }, (t) => buildAndVisit(t, 'no-bundler'));

test('webpack 5: `webpack` with no minirank-specific configuration', { timeout: 600_000 }, (t) =>
  buildAndVisit(t, 'webpack', { build: ['node_modules/webpack-cli/bin/cli.js'] }),
);

test("esbuild: the bundle, and the package's files copied beside it (build.mjs)", { timeout: 600_000 }, (t) =>
  buildAndVisit(t, 'esbuild', { build: ['build.mjs'] }),
);

test('Vite: `vite build` served as static files, and the `vite` dev server', { timeout: 900_000 }, async (t) => {
  const dir = await buildAndVisit(t, 'vite', { build: ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], served: 'dist' });
  const dev = spawn('node', ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--port', '0', '--clearScreen', 'false'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let text = '';
      dev.stdout.on('data', (d) => {
        text += String(d);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape codes of vite's coloured output
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text.replace(/\x1b\[[0-9;]*m/g, ''));
        if (m) resolve(m[1]);
      });
      dev.on('exit', (c) => reject(new Error(`vite exited ${c}: ${text}`)));
    });
    checkApp('vite dev', await visitTwice(url), t);
  } finally {
    dev.kill();
  }
});

/** Bytes of the files under `dir`, and the paths that end with `ext`. */
function sizeOf(dir, ext) {
  const out = { bytes: 0, matching: [] };
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath || e.path, e.name);
    out.bytes += statSync(p).size;
    if (p.endsWith(ext)) out.matching.push(p);
  }
  return out;
}

test("Vite with 'minirank/core': no model in the build; the models from the app's host (modelBaseUrl)", { timeout: 900_000 }, async (t) => {
  await buildAndVisit(t, 'vite-core', {
    build: ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'],
    served: 'dist',
    built: (dir) => {
      const build = sizeOf(join(dir, 'dist'), '.tar');
      assert.deepEqual(build.matching, [], 'no model file in the build');
      const withModels = sizeOf(join(cache, 'examples/vite/dist'), '.tar');
      t.diagnostic(`vite-core: build ${(build.bytes / 1e6).toFixed(1)} MB without models (vite with the defaults: ${(withModels.bytes / 1e6).toFixed(1)} MB)`);
      // self-hosting: the package's model files, served by the app under /models/
      cpSync(join(dir, 'node_modules/minirank/models'), join(dir, 'dist/models'), { recursive: true });
    },
  });
});

test('Vite PWA (vite-plugin-pwa, Workbox): after one visit the app reloads and searches offline, no request reaching the server', {
  timeout: 900_000,
}, async (t) => {
  const dir = prepare('pwa');
  execFileSync('node', ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  // Workbox takes minirank/precache's entries as they are (its own check of additionalManifestEntries)
  const check = `import { getManifest } from 'workbox-build';
    import { precacheEntries } from 'minirank/precache';
    const entries = precacheEntries('/minirank/');
    const { manifestEntries, warnings } = await getManifest({ globDirectory: 'public', globPatterns: [], additionalManifestEntries: entries });
    console.log(JSON.stringify({ same: JSON.stringify(manifestEntries) === JSON.stringify(entries), warnings, count: entries.length }));`;
  const workbox = JSON.parse(execFileSync('node', ['--input-type=module', '-e', check], { cwd: dir, encoding: 'utf8' }));
  assert.deepEqual(workbox, { same: true, warnings: [], count: workbox.count }, JSON.stringify(workbox));
  assert.ok(workbox.count > 20);

  const server = await serve(join(dir, 'dist'));
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const result = async () => {
      await page.waitForFunction(() => globalThis.minirankExample, null, { timeout: 300_000 });
      return page.evaluate(() => globalThis.minirankExample);
    };
    await page.goto(server.url);
    const first = await result();
    assert.equal(first.ok, true, JSON.stringify(first));
    // the service worker has precached the build and controls the page
    await page.waitForFunction(() => navigator.serviceWorker.controller, null, { timeout: 300_000 });
    const precached = await page.evaluate(async () => {
      const names = (await caches.keys()).filter((n) => n.startsWith('workbox-precache'));
      return (await Promise.all(names.map(async (n) => (await (await caches.open(n)).keys()).map((r) => new URL(r.url).pathname)))).flat();
    });
    assert.equal(precached.filter((p) => p.endsWith('.tar')).length, 2, precached.join(' '));
    assert.deepEqual(
      precached.filter((p) => /onnx/.test(p)),
      [],
      'the ONNX core is not precached',
    );

    await context.setOffline(true);
    const from = server.requests.length;
    const started = Date.now();
    await page.reload();
    const offline = await result();
    assert.equal(offline.ok, true, JSON.stringify(offline));
    checkSeed(offline.main, 'pwa offline (main thread)');
    assert.deepEqual(offline.worker, offline.main, 'pwa offline: the worker answers as the main thread');
    assert.deepEqual(offline.main, first.main, 'offline as online');
    await new Promise((r) => setTimeout(r, 500));
    // Chromium checks the service worker's scripts for an update after a navigation even under
    // setOffline (which does not cover that check); with the network really down it fails
    const reached = server.requests.slice(from).filter((p) => !/^\/(sw|workbox-[\w-]+)\.js$/.test(p));
    assert.deepEqual(reached, [], 'with the network off, no request reaches the server');
    t.diagnostic(`pwa: offline reload and search in ${Date.now() - started} ms; ${precached.length} files precached`);
    assert.deepEqual(problems, []);
    answers.pwa = offline.main;
  } finally {
    await context.close();
    server.close();
  }
});

test('every app gives the same answers', () => {
  const names = Object.keys(answers);
  assert.ok(names.length >= 2, names.join());
  for (const n of names) assert.deepEqual(answers[n], answers[names[0]], `${n} vs ${names[0]}`);
});
