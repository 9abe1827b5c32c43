// Offline: after one visit, the demo (MinirankWorker) and a page with Minirank on the main thread
// (tests/e2e/offline/) work with the network off, their files served by the package's service
// worker (minirank/service-worker, the list of minirank/precache). Each check counts the requests
// that reach the server (its log): with the network off, none may. And an update: a new build of
// the package installs whole or not at all.
//   node --test tests/e2e/offline.test.mjs        (after scripts/build-wasm.sh; needs /usr/bin/chromium)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { root, startPersistent } from './harness.mjs';

const { questions } = JSON.parse(readFileSync(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));
const NEW_DOCS = ['Multiprocessing uses separate processes', 'Bananas are yellow'];

/**
 * The requests that reached the server since `from` (its log is read as it comes: give it a moment),
 * less the browser's update checks of the service worker's scripts (`sw`, and the package's modules
 * it imports): Chromium makes those after a navigation even under `setOffline(true)`, which does
 * not cover them; with the network really down they fail, and the version in use stays.
 */
async function reached(server, from, sw) {
  await new Promise((r) => setTimeout(r, 500));
  const checks = new Set([sw, '/pkg/precache.js', '/pkg/precache-files.js', '/pkg/lib/errors.js', '/pkg/service-worker.js']);
  return server.requests.slice(from).filter((p) => !checks.has(p));
}

/** A page of the context with its page errors collected in `problems`. */
async function open(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(url);
  return { page, problems };
}

/** Once the page is controlled by its service worker, which has precached every file. */
const controlled = (page) =>
  page.waitForFunction(() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated', null, { timeout: 300_000 });

test('the demo: installable, and after one visit it loads, indexes, searches and restores its index with the network off', { timeout: 600_000 }, async (t) => {
  const { server, context, close } = await startPersistent();
  const { page, problems } = await open(context, server.url);
  const ready = () => page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
  await ready();
  await controlled(page);
  // the page waited for its service worker before loading the models: each file downloaded once
  // (the default core by the service worker; Chromium has relaxed SIMD, so the page fetches and
  // caches the relaxed build itself)
  const downloads = server.requests.filter((p) => /\.(tar|wasm)$/.test(p)).sort();
  assert.deepEqual(downloads, [
    '/pkg/minirank_core_bg.wasm',
    '/pkg/minirank_core_relaxed_bg.wasm',
    '/pkg/models/bi-encoder/model.nnef.tar',
    '/pkg/models/cross-encoder/model.nnef.tar',
  ]);
  // what Chromium requires of an installable app: the manifest, its icons, a service worker
  const cdp = await context.newCDPSession(page);
  assert.deepEqual((await cdp.send('Page.getInstallabilityErrors')).installabilityErrors, []);
  const manifest = await cdp.send('Page.getAppManifest');
  assert.deepEqual(manifest.errors, [], 'the manifest parses');
  const storage = await page.evaluate(() => navigator.storage.estimate());
  t.diagnostic(`demo: ${(storage.usage / 1e6).toFixed(1)} MB stored after the first visit (Cache API ${(storage.usageDetails.caches / 1e6).toFixed(1)} MB)`);

  await context.setOffline(true);
  const from = server.requests.length;
  const search = async (query, hits) => {
    await page.$eval('#stage2', (el) => el.replaceChildren());
    await page.fill('#query', query);
    await page.click('#search-btn');
    await page.waitForFunction((n) => document.querySelectorAll('#stage2 li').length === n, hits, { timeout: 120_000 });
    return page.$$eval('#stage2 li .id', (els) => els.map((e) => e.textContent));
  };
  await page.reload();
  await ready();
  assert.match(await page.textContent('#status'), /restored 20 documents from IndexedDB/);
  const top = await search(questions[0], 5);
  assert.ok(['multiprocessing', 'gil', 'concurrent-futures', 'numba'].includes(top[0]), top.join());
  await page.fill('#docs-input', NEW_DOCS.join('\n'));
  await page.click('#index-btn');
  await page.waitForFunction(() => /^\(2 indexed\)$/.test(document.getElementById('doc-count').textContent), null, { timeout: 120_000 });
  assert.deepEqual(await search('processes', 2), ['1', '2']);
  await page.reload();
  await ready();
  assert.match(await page.textContent('#status'), /restored 2 documents from IndexedDB/);
  assert.deepEqual(await search('processes', 2), ['1', '2']);
  assert.deepEqual(await reached(server, from, '/www/sw.js'), [], 'with the network off, no request reaches the server');
  assert.equal(await page.isHidden('#error'), true, await page.textContent('#error'));
  assert.deepEqual(problems, []);
  await close();
});

/** The main-thread page's state once it is ready: `{ restored, size, tokenizer }`. */
async function pageState(page) {
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 300_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await page.textContent('#out'));
  return page.evaluate(() => ({ restored: offlinePage.restored, size: offlinePage.size, tokenizer: offlinePage.tokenizer }));
}

const SW = '/tests/e2e/offline/sw.js';
const searchFor = (page, query) => page.evaluate((q) => offlinePage.search(q), query);

test('Minirank on the main thread: after one visit it loads, indexes, searches and restores its index with the network off', { timeout: 600_000 }, async () => {
  const { server, context, close } = await startPersistent();
  const { page, problems } = await open(context, `${server.origin}/tests/e2e/offline/`);
  assert.equal((await pageState(page)).size, 20);
  await controlled(page);

  await context.setOffline(true);
  const from = server.requests.length;
  await page.reload();
  assert.deepEqual(await pageState(page), { restored: true, size: 20, tokenizer: JSON.parse(await manifestSha()) });
  assert.equal((await searchFor(page, questions[1]))[0], 'asyncio');
  const docs = NEW_DOCS.map((text, i) => ({ id: String(i + 1), text }));
  assert.equal(await page.evaluate((d) => offlinePage.index(d), docs), 2);
  assert.deepEqual(await searchFor(page, 'processes'), ['1', '2']);
  await page.reload();
  assert.equal((await pageState(page)).size, 2);
  assert.deepEqual(await searchFor(page, 'processes'), ['1', '2']);
  assert.deepEqual(await reached(server, from, SW), [], 'with the network off, no request reaches the server');
  assert.deepEqual(problems, []);
  await close();
});

/** The bi-encoder tokenizer's SHA-256 in pkg/manifest.js, as JSON. */
async function manifestSha() {
  const { MODEL_MANIFEST } = await import(`${root}pkg/manifest.js`);
  return JSON.stringify(MODEL_MANIFEST.biEncoder.tokenizer.sha256);
}

/**
 * A folder served in the version test: pkg/ as links to the built files (version A), the page and
 * the fixtures. `toB()` turns it into version B, a build whose bi-encoder tokenizer is another file
 * (the same tokenizer written with indentation: other bytes, another SHA-256, the same ids), with
 * manifest.js and precache-files.js (written by scripts/precache.mjs) to match; `tokenizer(state)` serves that file or not.
 */
function versionedTree() {
  const dir = mkdtempSync(join(tmpdir(), 'minirank-versions-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const link = (rel) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    symlinkSync(join(root, rel), join(dir, rel));
  };
  for (const e of readdirSync(join(root, 'pkg'), { recursive: true, withFileTypes: true })) {
    if (e.isFile()) link(join(e.parentPath || e.path, e.name).slice(root.length));
  }
  link('tests/fixtures');
  link('tests/e2e/offline');
  const tokenizer = 'pkg/models/bi-encoder/tokenizer.json';
  const a = readFileSync(join(root, tokenizer));
  const b = Buffer.from(JSON.stringify(JSON.parse(a), null, 1));
  const digest = (bytes) => createHash('sha256').update(bytes).digest('hex');
  const [shaA, shaB] = [digest(a), digest(b)];
  const rewrite = (rel) => {
    const text = readFileSync(join(root, rel), 'utf8');
    assert.ok(text.includes(shaA), `${rel} lists the tokenizer`);
    rmSync(join(dir, rel));
    writeFileSync(join(dir, rel), text.replaceAll(shaA, shaB).replaceAll(`bytes: ${a.length}`, `bytes: ${b.length}`));
  };
  return {
    dir,
    shaA,
    shaB,
    toB() {
      rewrite('pkg/manifest.js');
      rmSync(join(dir, tokenizer));
      writeFileSync(join(dir, tokenizer), b);
      rmSync(join(dir, 'pkg/precache-files.js'));
      execFileSync('node', [`${root}scripts/precache.mjs`, join(dir, 'pkg')], { stdio: 'ignore' });
    },
    /** B's tokenizer on the server: 'missing' (404), 'stale' (A's bytes under B's digest), 'new'. */
    tokenizer(state) {
      rmSync(join(dir, tokenizer), { force: true });
      if (state !== 'missing') writeFileSync(join(dir, tokenizer), state === 'stale' ? a : b);
    },
  };
}

test('an update installs whole or not at all: the old version serves until the new one has every file', { timeout: 600_000 }, async () => {
  const tree = versionedTree();
  const { server, context, close } = await startPersistent({ root: tree.dir });
  const url = `${server.origin}/tests/e2e/offline/`;
  const swCaches = (page) => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('minirank-sw:')));
  let { page, problems } = await open(context, url);
  assert.equal((await pageState(page)).tokenizer, tree.shaA);
  await controlled(page);
  const [cacheA] = await swCaches(page);
  assert.ok(cacheA);

  // the server has version B (one file of it missing: an update check that the offline emulation
  // lets through cannot install it); offline, version A keeps working
  await context.setOffline(true);
  tree.toB();
  tree.tokenizer('missing');
  let from = server.requests.length;
  await page.reload();
  assert.deepEqual(await pageState(page), { restored: true, size: 20, tokenizer: tree.shaA });
  assert.deepEqual(await reached(server, from, SW), []);

  // online, one file of B missing: B does not install, A stays whole
  await context.setOffline(false);
  from = server.requests.length;
  await page.reload();
  assert.equal((await pageState(page)).tokenizer, tree.shaA);
  assert.equal(await page.evaluate(() => offlinePage.update()), 'redundant', 'the install of B fails');
  assert.ok((await reached(server, from, SW)).includes('/pkg/models/bi-encoder/tokenizer.json'), 'B was tried');
  assert.deepEqual(await swCaches(page), [cacheA], "A's cache alone, B's half-filled one deleted");
  await page.reload();
  assert.equal((await pageState(page)).tokenizer, tree.shaA);
  assert.equal((await searchFor(page, questions[1]))[0], 'asyncio');
  assert.equal(await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration('/')).waiting), false);
  // (Chromium's own update check after that reload, still with the file missing, ends first)
  await page.evaluate(() => offlinePage.navigationUpdate());
  // ... nor with that file's old bytes (a stale copy on a CDN): its integrity fails
  tree.tokenizer('stale');
  assert.equal(await page.evaluate(() => offlinePage.update()), 'redundant', 'the install of B fails its integrity check');
  assert.deepEqual(await swCaches(page), [cacheA]);
  await page.reload();
  assert.equal((await pageState(page)).tokenizer, tree.shaA);
  await page.evaluate(() => offlinePage.navigationUpdate());

  // every file of B there: B installs, and takes over once no page runs A
  tree.tokenizer('new');
  assert.equal(await page.evaluate(() => offlinePage.update()), 'installed');
  assert.equal(await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration('/')).waiting), true, 'B waits');
  assert.equal((await pageState(page)).tokenizer, tree.shaA, 'the open page keeps A');
  assert.deepEqual(problems, []);
  await page.close();
  // B activates once A's last page is gone, which Chromium learns after close() resolves: a page
  // opened before that would be A's again (and keep A alive). Wait, from the service worker, until
  // nothing waits any more (A's worker is stopped on the way: its handle closes, B's comes).
  const waiting = async () => {
    for (const sw of context.serviceWorkers().reverse()) {
      try {
        return await sw.evaluate(() => !!self.registration.waiting);
      } catch {
        // a worker stopped since the list was read
      }
    }
    return true;
  };
  for (let t = 0; t < 100 && (await waiting()); t++) await new Promise((r) => setTimeout(r, 100));
  ({ page, problems } = await open(context, url));
  assert.equal((await pageState(page)).tokenizer, tree.shaB);
  await controlled(page);
  const swNow = await swCaches(page);
  assert.equal(swNow.length, 1, "A's cache deleted on activate");
  assert.notEqual(swNow[0], cacheA);

  // and B offline, whole
  await context.setOffline(true);
  from = server.requests.length;
  await page.reload();
  assert.equal((await pageState(page)).tokenizer, tree.shaB);
  assert.equal((await searchFor(page, questions[1]))[0], 'asyncio');
  assert.deepEqual(await reached(server, from, SW), []);
  assert.deepEqual(problems, []);
  await close();
});
