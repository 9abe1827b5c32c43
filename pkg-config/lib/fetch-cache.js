// Model and wasm files: fetched (or read from disk in Node), checked against their SHA-256, and kept
// in the Cache API under that digest so that a reload downloads nothing.
import { abortError } from './abort.js';
import { fail, MinirankError, storageError, warn } from './errors.js';
import { startCore } from './load-core.js';
import { baseHref, isNode, nodeCacheFolder, nodeReadFile, toBytes } from './platform.js';

const CACHE_NAME = 'minirank-models-v1';
const CACHE_KEY_BASE = 'https://minirank.invalid/sha256/';
/** Files kept under the URL they came from (a Hub model's, which has no digest to key it). */
const CACHE_URL_BASE = 'https://minirank.invalid/url/';
/** A cached file's checksum (see `checksum`), recorded when it is stored. */
const CHECKSUM_HEADER = 'x-minirank-checksum';
// marks a cache entry that records an optional file's HTTP 404 (a Hub repository without it)
const ABSENT_HEADER = 'x-minirank-absent';

/** Lower-case hex SHA-256 (Web Crypto, or `node:crypto` in Node 18; the wasm core otherwise). */
export async function sha256(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (subtle) {
    const d = new Uint8Array(await subtle.digest('SHA-256', bytes));
    return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  if (isNode) {
    const spec = 'node:crypto';
    const { createHash } = await import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
    return createHash('sha256').update(bytes).digest('hex');
  }
  return (await startCore('nnef', undefined, fetchModelFile)).sha256Hex(bytes);
}

/**
 * A 128-bit checksum of `bytes` (four independent 32-bit multiply-xor lanes over the 32-bit words,
 * the tail bytes and the length folded in), far cheaper than SHA-256. It checks a file read back
 * from the Cache API against the checksum recorded when the file was stored there, after its
 * SHA-256 was checked: damage or a replaced entry is caught without hashing the models and wasm
 * again with SHA-256 on every load, which would cost the page's thread a noticeable part of each
 * load (docs/performance.md). It is not a defence against a script of the page's own origin, which
 * could rewrite the checksum, or the page, as well.
 */
function checksum(bytes) {
  const words = (bytes.byteLength >>> 4) << 2;
  const view = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const w = new Int32Array(view.buffer, view.byteOffset, words);
  let a = 0x6a09e667 | 0,
    b = 0xbb67ae85 | 0,
    c = 0x3c6ef372 | 0,
    d = 0xa54ff53a | 0;
  for (let i = 0; i < words; i += 4) {
    a = Math.imul(a ^ w[i], 0x9e3779b1);
    a ^= a >>> 15;
    b = Math.imul(b ^ w[i + 1], 0x85ebca77);
    b ^= b >>> 13;
    c = Math.imul(c ^ w[i + 2], 0xc2b2ae3d);
    c ^= c >>> 16;
    d = Math.imul(d ^ w[i + 3], 0x27d4eb2f);
    d ^= d >>> 15;
  }
  for (let i = words * 4; i < bytes.byteLength; i++) a = Math.imul(a ^ bytes[i], 0x9e3779b1) ^ (a >>> 15);
  d = Math.imul(d ^ bytes.byteLength, 0x27d4eb2f);
  return [a, b, c, d].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
}

/**
 * A model file's response must be a success and not a web page: a dev server or CDN that does not
 * have the file often answers 200 with its index.html, which would otherwise surface as a
 * confusing integrity or parse error.
 */
function checkResponse(response, url, stage) {
  const type = (response.headers.get('content-type') || '').toLowerCase();
  if (!response.ok) {
    const e = new MinirankError('BadResponse', `${stage}: ${url} answered HTTP ${response.status}${type ? ` (${type})` : ''}`);
    Object.assign(e, { status: response.status, url: String(url) });
    throw e;
  }
  if (/^text\/html|^application\/xhtml/.test(type)) {
    fail(
      'BadResponse',
      `${stage}: ${url} answered a web page (HTTP ${response.status}, ${type}), not the file: is it served from where the package expects it?`,
    );
  }
}

/**
 * `{ store }`, or `{ error }` when the Cache API is missing (an insecure origin) or refuses; in
 * Node, a cache folder (`nodeCacheFolder`).
 */
async function openCache() {
  if (isNode && !globalThis.caches) {
    try {
      return { store: await nodeCacheFolder() };
    } catch (e) {
      return { error: storageError(e, 'the cache folder could not be opened, so model files will be downloaded again next time') };
    }
  }
  if (!globalThis.caches) {
    return {
      error: new MinirankError(
        'StorageUnavailable',
        'the Cache API is not available here (an insecure origin, or storage disabled): model files will be downloaded again on every visit',
      ),
    };
  }
  try {
    return { store: await globalThis.caches.open(CACHE_NAME) };
  } catch (e) {
    return { error: storageError(e, 'the Cache API could not be opened, so model files will be downloaded again on every visit') };
  }
}

async function readWithProgress(response, onChunk) {
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body || !response.body.getReader) {
    const b = new Uint8Array(await response.arrayBuffer());
    onChunk(b.length, total || b.length);
    return b;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onChunk(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** What the Cache API keeps of a file whose SHA-256 was checked: its bytes and their checksum. */
function cachedResponse(bytes) {
  return new Response(bytes, { headers: { 'content-type': 'application/octet-stream', [CHECKSUM_HEADER]: checksum(bytes) } });
}

/**
 * Bytes of one model file: given bytes, or fetched from a URL. With a `sha256`, the bytes are
 * checked (a mismatch throws code 'IntegrityMismatch') and cached with the Cache API under that
 * digest, so a reload does not download again; without one, `byUrl` caches them under their URL
 * (a Hub model's files). A reload checks the cached bytes against the checksum stored with them
 * (see `checksum`), and fetches a damaged entry again. An `optional` file that answers HTTP 404 is
 * remembered as absent in the same cache, so that a later load (offline, say) gets the same 404
 * without the network.
 */
export async function fetchModelFile(
  src,
  { sha256: expected, cache = true, byUrl = false, optional = false, stage = 'download', onProgress, onWarning, signal } = {},
) {
  const report = (loaded, total) => onProgress && onProgress({ stage, loaded, total });
  const warnNow = (e) => warn(onWarning, e);
  let bytes = toBytes(src);
  let cacheStore = null;
  let key = null;
  if (!bytes) {
    if (typeof src !== 'string' && !(src instanceof URL)) {
      fail(
        'InvalidOption',
        `invalid option \`${stage}\`: must be a URL, a string URL, a Uint8Array or an ArrayBuffer, got ${src === null ? 'null' : typeof src}`,
      );
    }
    const url = src instanceof URL ? src : new URL(src, baseHref());
    key = expected ? CACHE_KEY_BASE + expected : byUrl ? CACHE_URL_BASE + url.href : null;
    // Node reads files on disk (the package's own) where they are: nothing to cache
    if (key && cache && !(isNode && url.protocol === 'file:')) {
      const opened = await openCache();
      if (opened.error) warnNow(opened.error);
      cacheStore = opened.store || null;
      let hit = null;
      try {
        hit = cacheStore && (await cacheStore.match(key));
      } catch (e) {
        warnNow(storageError(e, `${stage} could not be read from the Cache API`));
      }
      if (hit && optional && hit.headers.get(ABSENT_HEADER)) {
        const e = new MinirankError('BadResponse', `${stage}: ${url} answered HTTP 404 (remembered from an earlier load)`);
        throw Object.assign(e, { status: 404, url: String(url) });
      }
      if (hit) {
        bytes = new Uint8Array(await hit.arrayBuffer());
        // checked against the checksum recorded with it; an entry stored without one (by an
        // older version of the package) against its SHA-256 once, then stored again with one
        const recorded = hit.headers.get(CHECKSUM_HEADER);
        if (recorded ? recorded === checksum(bytes) : !!expected && (await sha256(bytes)) === expected) {
          if (!recorded) cacheStore.put(key, cachedResponse(bytes)).catch(() => {});
          report(bytes.length, bytes.length);
          return { bytes, fromCache: true };
        }
        // wrong bytes under the right key (a damaged or tampered entry): fetched again and replaced below
        await cacheStore.delete(key).catch(() => {});
        bytes = null;
      }
    }
    if (isNode && url.protocol === 'file:') {
      bytes = await nodeReadFile(url);
      report(bytes.length, bytes.length);
    } else {
      let response;
      try {
        response = await fetch(url, signal ? { signal } : undefined);
      } catch (e) {
        if (signal && signal.aborted) throw abortError(signal, `${stage}: the download`);
        fail('Io', `could not fetch ${url}: ${e && e.message ? e.message : e}`);
      }
      if (optional && response.status === 404 && cacheStore) {
        await cacheStore.put(key, new Response(new Uint8Array(0), { headers: { [ABSENT_HEADER]: '1' } })).catch(() => {});
      }
      checkResponse(response, url, stage);
      try {
        bytes = await readWithProgress(response, report);
      } catch (e) {
        if (signal && signal.aborted) throw abortError(signal, `${stage}: the download`);
        throw e;
      }
    }
  }
  if (expected) {
    const actual = await sha256(bytes);
    if (actual !== expected.toLowerCase()) {
      fail('IntegrityMismatch', `${stage} failed its integrity check: expected sha256 ${expected}, got ${actual}`);
    }
  }
  if (cacheStore) {
    try {
      await cacheStore.put(key, cachedResponse(bytes));
    } catch (e) {
      warnNow(storageError(e, `${stage} could not be cached, so it will be downloaded again on the next visit`));
    }
  }
  return { bytes, fromCache: false };
}
