// Storage that fails, in headless Chromium: no Cache API (an insecure origin), a full Cache API, a
// poisoned cache entry, and IndexedDB full or missing. Search keeps working, each failure is reported
// once with its code, a failed save leaves the record saved before whole, and a cache entry with
// the wrong bytes is detected (by the checksum recorded with it, or by its SHA-256 when it has
// none), fetched again and repaired.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { blankPage, root, start } from './harness.mjs';

const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));
const { server, browser } = await start();

test('no Cache API, or a full one: the models load, search works, one warning per code', { timeout: 600_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async (q) => {
    const { Minirank } = await import('/pkg/minirank.js');
    const out = {};
    // a full Cache API: every put is refused with a QuotaExceededError
    const put = Cache.prototype.put;
    Cache.prototype.put = () => Promise.reject(new DOMException('the quota has been exceeded', 'QuotaExceededError'));
    const full = [];
    const a = await Minirank.load({ onWarning: (w) => full.push([w.name, w.code, w.message]) });
    await a.index(['multiprocessing runs processes in parallel', 'asyncio is single-threaded']);
    out.full = { warnings: full, hit: (await a.search(q, { candidates: 2, topK: 1 })).hits[0].text };
    a.free();
    Cache.prototype.put = put;
    // no Cache API at all (as on a plain-http origin)
    const caches = globalThis.caches;
    Object.defineProperty(globalThis, 'caches', { value: undefined, configurable: true });
    const none = [];
    const b = await Minirank.load({ onWarning: (w) => none.push([w.name, w.code]) });
    await b.index(['multiprocessing runs processes in parallel', 'asyncio is single-threaded']);
    out.none = { warnings: none, hit: (await b.search(q, { candidates: 2, topK: 1 })).hits[0].text };
    b.free();
    Object.defineProperty(globalThis, 'caches', { value: caches, configurable: true });
    out.badOption = await Minirank.load({ onWarning: 'log' }).then(
      () => null,
      (e) => e.code,
    );
    return out;
  }, questions[0]);
  assert.deepEqual(
    r.full.warnings.map((w) => w.slice(0, 2)),
    [['MinirankError', 'QuotaExceeded']],
    JSON.stringify(r.full.warnings),
  );
  assert.match(r.full.warnings[0][2], /downloaded again/);
  assert.deepEqual(r.none.warnings, [['MinirankError', 'StorageUnavailable']]);
  assert.equal(r.full.hit, 'multiprocessing runs processes in parallel');
  assert.equal(r.none.hit, r.full.hit);
  assert.equal(r.badOption, 'InvalidOption');
  assert.deepEqual(problems, []);
});

test('a poisoned cache entry is detected, fetched again and repaired', { timeout: 600_000 }, async () => {
  const { page, problems, requests } = await blankPage(browser, server);
  const keys = await page.evaluate(async () => {
    const { Minirank, DEFAULT_MODELS } = await import('/pkg/minirank.js');
    (await Minirank.load()).free(); // fills the cache
    const cache = await caches.open('minirank-models-v1');
    const key = (file) => `https://minirank.invalid/sha256/${file.sha256}`;
    // other bytes without a recorded checksum (as an older version stored them): SHA-256 decides
    const ce = key(DEFAULT_MODELS.crossEncoder.model);
    await cache.put(ce, new Response(new Uint8Array([1, 2, 3])));
    // one byte changed in the middle, the recorded checksum kept: the checksum decides
    const bi = key(DEFAULT_MODELS.biEncoder.model);
    const entry = await cache.match(bi);
    const bytes = new Uint8Array(await entry.arrayBuffer());
    bytes[bytes.length >> 1] ^= 1;
    await cache.put(bi, new Response(bytes, { headers: entry.headers }));
    // the right bytes without a checksum: checked by SHA-256 once, then stored with one
    const tok = key(DEFAULT_MODELS.biEncoder.tokenizer);
    await cache.put(tok, new Response(await (await cache.match(tok)).arrayBuffer()));
    return { ce, bi, tok, checksum: entry.headers.get('x-minirank-checksum') };
  });
  assert.match(keys.checksum, /^[0-9a-f]{32}$/, 'stored with its checksum');
  const before = requests.length;
  const r = await page.evaluate(async ({ ce, bi, tok }) => {
    const { Minirank, DEFAULT_MODELS, sha256 } = await import('/pkg/minirank.js');
    const warnings = [];
    const mr = await Minirank.load({ onWarning: (w) => warnings.push(w.code) });
    await mr.index(['multiprocessing runs processes in parallel']);
    const hits = (await mr.search('parallel processes', { candidates: 1, topK: 1 })).hits.length;
    mr.free();
    const cache = await caches.open('minirank-models-v1');
    const repaired = async (key, file) => {
      const entry = await cache.match(key);
      return (await sha256(new Uint8Array(await entry.arrayBuffer()))) === file.sha256 && /^[0-9a-f]{32}$/.test(entry.headers.get('x-minirank-checksum'));
    };
    // the upgrade is stored without being awaited by the load
    for (let i = 0; i < 100 && !(await cache.match(tok)).headers.get('x-minirank-checksum'); i++) await new Promise((done) => setTimeout(done, 50));
    const files = [
      [ce, DEFAULT_MODELS.crossEncoder.model],
      [bi, DEFAULT_MODELS.biEncoder.model],
      [tok, DEFAULT_MODELS.biEncoder.tokenizer],
    ];
    return { warnings, hits, repaired: await Promise.all(files.map(([key, file]) => repaired(key, file))) };
  }, keys);
  const fetched = requests
    .slice(before)
    .filter((p) => p.endsWith('.nnef.tar'))
    .sort();
  assert.deepEqual(fetched, ['/pkg/models/bi-encoder/model.nnef.tar', '/pkg/models/cross-encoder/model.nnef.tar'], 'only the poisoned files are fetched again');
  assert.deepEqual(r, { warnings: [], hits: 1, repaired: [true, true, true] });
  assert(!requests.slice(before).some((p) => p.endsWith('/bi-encoder/tokenizer.json')), 'a right entry without a checksum is not fetched again');
  // the next load reads everything from the cache
  const again = requests.length;
  await page.evaluate(async () => {
    const { Minirank } = await import('/pkg/minirank.js');
    (await Minirank.load()).free();
  });
  assert.deepEqual(
    requests.slice(again).filter((p) => p.endsWith('.nnef.tar') || p.endsWith('.wasm')),
    [],
  );
  assert.deepEqual(problems, []);
});

test('IndexedDB full, missing or of a newer version: a specific code, and the record saved before stays whole', { timeout: 600_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async () => {
    const { Minirank, saveIndexToIndexedDB, loadIndexFromIndexedDB } = await import('/pkg/minirank.js');
    const code = (p) =>
      p.then(
        () => 'resolved',
        (e) => `${e.name}:${e.code}`,
      );
    const mr = await Minirank.load();
    await mr.index(['first document about processes', 'second document about threads']);
    const key = 'storage-test';
    await saveIndexToIndexedDB(mr, { key });
    await mr.index(['a third document about queues']);
    const out = {};
    // storage full: the put is refused
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('the quota has been exceeded', 'QuotaExceededError');
    };
    out.full = await code(saveIndexToIndexedDB(mr, { key }));
    IDBObjectStore.prototype.put = put;
    // the record of the first save is whole: it loads, with its two documents
    const other = await Minirank.load();
    out.restored = (await loadIndexFromIndexedDB(other, { key })).documents;
    out.size = other.size;
    // no IndexedDB (a private window in some browsers)
    const idb = globalThis.indexedDB;
    Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true });
    out.missing = [await code(saveIndexToIndexedDB(mr, { key })), await code(loadIndexFromIndexedDB(mr, { key }))];
    Object.defineProperty(globalThis, 'indexedDB', { value: idb, configurable: true });
    // a database another version of the app opened at a newer version: refused, not a hang
    await new Promise((resolve, reject) => {
      const open = indexedDB.open('minirank-newer', 2);
      open.onupgradeneeded = () => open.result.createObjectStore('indexes');
      open.onsuccess = () => {
        open.result.close();
        resolve();
      };
      open.onerror = () => reject(open.error);
    });
    out.newer = await code(saveIndexToIndexedDB(mr, { dbName: 'minirank-newer', key }));
    // search goes on
    out.search = (await mr.search('queues', { candidates: 3, topK: 1 })).hits.length;
    mr.free();
    other.free();
    return out;
  });
  assert.equal(r.full, 'MinirankError:QuotaExceeded');
  assert.equal(r.restored, 2);
  assert.equal(r.size, 2);
  assert.deepEqual(r.missing, ['MinirankError:StorageUnavailable', 'MinirankError:StorageUnavailable']);
  assert.equal(r.newer, 'MinirankError:StorageUnavailable');
  assert.equal(r.search, 1);
  assert.deepEqual(problems, []);
});
