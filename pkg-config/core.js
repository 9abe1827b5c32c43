// minirank/core — the whole API without the default models: a page that brings its own models (or
// fetches the default ones from its own host with `modelBaseUrl`) does not carry 45 MB of models in
// its build. `minirank` (minirank.js) is this, with the models shipped in the package as defaults.
//
//   import { Minirank } from 'minirank/core';
//   const mr = await Minirank.load({ modelBaseUrl: 'https://cdn.example.com/minirank/' });
//
// Every method that can fail rejects (or throws) an Error whose `name` is 'MinirankError' and
// whose `code` says what went wrong ('InvalidOption', 'EmptyIndex', 'IntegrityMismatch', ...).
import * as nnefGlue from './minirank_core.js';
import { DEFAULT_WASM, MODEL_MANIFEST, ONNX_WASM } from './manifest.js';

const CACHE_NAME = 'minirank-models-v1';
const CACHE_KEY_BASE = 'https://minirank.invalid/sha256/';
/** A cached file's checksum (see `checksum`), recorded when it is stored. */
const CHECKSUM_HEADER = 'x-minirank-checksum';
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** An error thrown by minirank (also the class of errors raised inside the wasm core). */
export class MinirankError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'MinirankError';
    this.code = code;
  }

  // Errors thrown by the wasm core are plain `Error`s named 'MinirankError' with a `code`;
  // `instanceof MinirankError` holds for them too.
  static [Symbol.hasInstance](x) {
    return x instanceof Error && x.name === 'MinirankError' && typeof x.code === 'string';
  }
}

function fail(code, message) {
  throw new MinirankError(code, message);
}

/** The error of an aborted call: code 'Aborted', with the signal's reason. */
export function abortError(signal, what) {
  const r = signal && signal.reason;
  const why = r === undefined ? '' : `: ${r && r.message ? r.message : String(r)}`;
  return new MinirankError('Aborted', `${what} was aborted${why}`);
}

/** Throw if `signal` (an AbortSignal or undefined) is aborted. */
export function throwIfAborted(signal, what) {
  if (signal === undefined || signal === null) return;
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean') fail('InvalidOption', 'invalid option `signal`: must be an AbortSignal');
  if (signal.aborted) throw abortError(signal, what);
}

/**
 * Options of a core call without `signal` (an AbortSignal is the package's, not the core's):
 * checked first, so that an aborted call does not start.
 */
export function splitSignal(options, what) {
  if (!options || typeof options !== 'object' || !('signal' in options)) return [options, undefined];
  const { signal, ...rest } = options;
  throwIfAborted(signal, what);
  return [rest, signal];
}

async function nodeReadFile(url) {
  const spec = 'node:fs/promises';
  const fs = await import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
  return new Uint8Array(await fs.readFile(url));
}

/**
 * The package's two wasm cores: one crate built twice, with the same JS glue. 'nnef' (the default,
 * `DEFAULT_WASM`) reads tract NNEF only: the package's models and models converted with
 * `minirank convert`. 'onnx' (`ONNX_WASM`, 1.9 MB more of gzip) also reads ONNX files, and is
 * fetched only when a model is one. Each is instantiated at most once per thread, from its own copy
 * of the glue, so both can serve one page.
 */
const CORES = {
  nnef: { file: DEFAULT_WASM, stage: 'wasm', glue: async () => nnefGlue },
  onnx: { file: ONNX_WASM, stage: 'wasm (ONNX)', glue: () => import('./minirank_core_onnx.js') },
};
const started = {}; // kind → Promise of the core: its glue's exports and the instance's `exports`
const cores = {}; // kind → the core, once instantiated

function startCore(kind, wasm, { cache = true, onProgress, onWarning } = {}) {
  if (!started[kind]) {
    const { file, stage, glue } = CORES[kind];
    started[kind] = (async () => {
      const core = { ...(await glue()) };
      let source = wasm;
      // No Web Crypto (a page on a plain-http origin other than localhost): the core checks its
      // own bytes once it runs, and nothing is cached.
      const selfCheck = (source === undefined || source === null) && !canDigest();
      if (selfCheck) {
        source = (await fetchModelFile(file.url(), { stage, onProgress })).bytes;
      } else if (source === undefined || source === null) {
        source = (await fetchModelFile(file.url(), { sha256: file.sha256, cache, stage, onProgress, onWarning })).bytes;
      } else if (isNode && source instanceof URL && source.protocol === 'file:') {
        source = await nodeReadFile(source);
      }
      core.exports = await core.default({ module_or_path: source });
      if (selfCheck) {
        const actual = core.sha256Hex(source);
        if (actual !== file.sha256) fail('IntegrityMismatch', `${stage} failed its integrity check: expected sha256 ${file.sha256}, got ${actual}`);
      }
      return (cores[kind] = core);
    })();
    started[kind].catch(() => { started[kind] = null; });
  }
  return started[kind];
}

/**
 * Instantiate the wasm core once (idempotent). `wasm` may be a URL, Response, bytes or a Module;
 * by default the package's own `.wasm` (the NNEF core), checked against its SHA-256 and kept in the
 * Cache API with the models (`cache: false` skips the cache), so a reload downloads nothing.
 * `Minirank.load` calls it; a load whose model is an ONNX file starts the ONNX core instead.
 */
export function initWasm(wasm, options) {
  return startCore('nnef', wasm, options).then(() => {});
}

/** Whether these bytes are a tar archive (tract NNEF, `ustar` magic at 257), not an ONNX protobuf. */
function isNnefBytes(b) {
  return b.length > 262 && b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72;
}

/** A model's format before it is fetched: from its bytes or its file name; null when unknown. */
function formatOf(src) {
  if (src === undefined) return 'nnef'; // the package's models
  const bytes = toBytes(src);
  if (bytes) return isNnefBytes(bytes) ? 'nnef' : 'onnx';
  const path = String(src instanceof URL ? src.pathname : src).split(/[?#]/)[0].toLowerCase();
  return path.endsWith('.onnx') ? 'onnx' : path.endsWith('.tar') ? 'nnef' : null;
}

function toBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}

/**
 * Build models in the wasm core, turning a trap into a MinirankError. A load that needs more memory
 * than the page can give makes the core's allocator abort (a trap, not an error): when the memory
 * cannot grow by 16 MB more afterwards, that is what happened ('OutOfMemory'); any other trap is
 * 'Internal'.
 */
function loading(core, build) {
  try {
    return build();
  } catch (e) {
    if (!(typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError)) throw e;
    let full = false;
    try { core.exports.memory.grow(256); } catch { full = true; }
    if (full) {
      throw new MinirankError('OutOfMemory', `the models need more memory than this page can give the wasm core (${wasmMemoryBytes()} bytes in use): close other tabs, load in a MinirankWorker, or use smaller models (${e.message})`);
    }
    throw new MinirankError('Internal', `the wasm core trapped while loading the models (${e.message})`);
  }
}

const canDigest = () => !!(globalThis.crypto && globalThis.crypto.subtle) || isNode;

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
  return (await startCore('nnef')).sha256Hex(bytes);
}

/**
 * A 128-bit checksum of `bytes` (four independent 32-bit multiply-xor lanes over the 32-bit words,
 * the tail bytes and the length folded in), about 4 GB/s in V8. It checks a file read back from
 * the Cache API against the checksum recorded when the file was stored there, after its SHA-256 was
 * checked: damage or a replaced entry is caught without hashing the 56 MB of models and wasm again
 * with SHA-256 on every load (measured in headless Chromium: 1.7 ms per MB, on the page's thread,
 * about 100 ms per load). It is not a defence against a script of the page's own origin, which
 * could rewrite the checksum, or the page, as well.
 */
function checksum(bytes) {
  const words = bytes.byteLength >>> 4 << 2;
  const view = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const w = new Int32Array(view.buffer, view.byteOffset, words);
  let a = 0x6a09e667 | 0, b = 0xbb67ae85 | 0, c = 0x3c6ef372 | 0, d = 0xa54ff53a | 0;
  for (let i = 0; i < words; i += 4) {
    a = Math.imul(a ^ w[i], 0x9e3779b1); a ^= a >>> 15;
    b = Math.imul(b ^ w[i + 1], 0x85ebca77); b ^= b >>> 13;
    c = Math.imul(c ^ w[i + 2], 0xc2b2ae3d); c ^= c >>> 16;
    d = Math.imul(d ^ w[i + 3], 0x27d4eb2f); d ^= d >>> 15;
  }
  for (let i = words * 4; i < bytes.byteLength; i++) a = Math.imul(a ^ bytes[i], 0x9e3779b1) ^ (a >>> 15);
  d = Math.imul(d ^ bytes.byteLength, 0x27d4eb2f);
  return [a, b, c, d].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
}

/**
 * Bytes of the wasm memory in this thread (all `Minirank` and `Scorer` instances here share
 * it, or its two memories when ONNX and NNEF models were both loaded; 0 before the first load).
 * It grows as models load and indexes fill, and never shrinks.
 */
export function wasmMemoryBytes() {
  return Object.values(cores).reduce((sum, core) => {
    try { return sum + core.wasmMemoryBytes(); } catch { return sum; }
  }, 0);
}

/**
 * A model file's response must be a success and not a web page: a dev server or CDN that does not
 * have the file often answers 200 with its index.html, which would otherwise surface as a
 * confusing integrity or parse error.
 */
function checkResponse(response, url, stage) {
  const type = (response.headers.get('content-type') || '').toLowerCase();
  if (!response.ok) fail('BadResponse', `${stage}: ${url} answered HTTP ${response.status}${type ? ` (${type})` : ''}`);
  if (/^text\/html|^application\/xhtml/.test(type)) {
    fail('BadResponse', `${stage}: ${url} answered a web page (HTTP ${response.status}, ${type}), not the file: is it served from where the package expects it?`);
  }
}

const warnedOnce = new Set();

/**
 * A problem that does not stop the call (storage that is missing or full): to `onWarning`, or else
 * `console.warn`, once per code in this thread.
 */
export function warn(onWarning, error) {
  if (onWarning) { onWarning(error); return; }
  if (warnedOnce.has(error.code)) return;
  warnedOnce.add(error.code);
  if (globalThis.console) globalThis.console.warn(`minirank: ${error.message} (code ${error.code})`);
}

/** A reporter for one load: each code once. */
export function warner(onWarning) {
  if (onWarning !== undefined && typeof onWarning !== 'function') fail('InvalidOption', 'invalid option `onWarning`: must be a function');
  const seen = new Set();
  return (error) => {
    if (seen.has(error.code)) return;
    seen.add(error.code);
    warn(onWarning, error);
  };
}

/** A storage failure as a MinirankError: 'QuotaExceeded' when storage is full, else 'StorageUnavailable'. */
export function storageError(e, what) {
  const quota = !!e && (e.name === 'QuotaExceededError' || e.code === 22);
  // Chromium aborts a too-large write of an in-memory (private window) profile without a reason
  const why = e ? (e.message || String(e)) : 'the browser gave no reason; a private window keeps storage in memory, with a small quota';
  return new MinirankError(quota ? 'QuotaExceeded' : 'StorageUnavailable', `${what}: ${quota ? 'storage is full' : 'storage is not available'} (${why})`);
}

/** `{ store }`, or `{ error }` when the Cache API is missing (an insecure origin) or refuses. */
async function openCache() {
  if (!globalThis.caches) {
    return { error: new MinirankError('StorageUnavailable', 'the Cache API is not available here (an insecure origin, or storage disabled): model files will be downloaded again on every visit') };
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
  for (const c of chunks) { out.set(c, off); off += c.length; }
  return out;
}

/** What the Cache API keeps of a file whose SHA-256 was checked: its bytes and their checksum. */
function cachedResponse(bytes) {
  return new Response(bytes, { headers: { 'content-type': 'application/octet-stream', [CHECKSUM_HEADER]: checksum(bytes) } });
}

/**
 * Bytes of one model file: given bytes, or fetched from a URL. With a `sha256`, the bytes are
 * checked (a mismatch throws code 'IntegrityMismatch') and cached with the Cache API under that
 * digest, so a reload does not download again; a reload checks the cached bytes against the
 * checksum stored with them (see `checksum`), and fetches a damaged entry again.
 */
export async function fetchModelFile(src, { sha256: expected, cache = true, stage = 'download', onProgress, onWarning, signal } = {}) {
  const report = (loaded, total) => onProgress && onProgress({ stage, loaded, total });
  const warnNow = (e) => warn(onWarning, e);
  let bytes = toBytes(src);
  let cacheStore = null;
  if (!bytes) {
    if (typeof src !== 'string' && !(src instanceof URL)) {
      fail('InvalidOption', `invalid option \`${stage}\`: must be a URL, a string URL, a Uint8Array or an ArrayBuffer, got ${src === null ? 'null' : typeof src}`);
    }
    const url = src instanceof URL ? src : new URL(src, globalThis.location ? globalThis.location.href : import.meta.url);
    if (expected && cache && !(isNode && url.protocol === 'file:')) {
      const opened = await openCache();
      if (opened.error) warnNow(opened.error);
      cacheStore = opened.store || null;
      let hit = null;
      try {
        hit = cacheStore && (await cacheStore.match(CACHE_KEY_BASE + expected));
      } catch (e) {
        warnNow(storageError(e, `${stage} could not be read from the Cache API`));
      }
      if (hit) {
        bytes = new Uint8Array(await hit.arrayBuffer());
        // checked against the checksum recorded with it; an entry stored without one (by an
        // older version of the package) against its SHA-256 once, then stored again with one
        const recorded = hit.headers.get(CHECKSUM_HEADER);
        if (recorded ? recorded === checksum(bytes) : (await sha256(bytes)) === expected) {
          if (!recorded) cacheStore.put(CACHE_KEY_BASE + expected, cachedResponse(bytes)).catch(() => {});
          report(bytes.length, bytes.length);
          return { bytes, fromCache: true };
        }
        // wrong bytes under the right key (a damaged or tampered entry): fetched again and replaced below
        await cacheStore.delete(CACHE_KEY_BASE + expected).catch(() => {});
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
    if (cacheStore) {
      try {
        await cacheStore.put(CACHE_KEY_BASE + expected, cachedResponse(bytes));
      } catch (e) {
        warnNow(storageError(e, `${stage} could not be cached, so it will be downloaded again on the next visit`));
      }
    }
  }
  return { bytes, fromCache: false };
}

const MODEL_KEYS = ['model', 'tokenizer', 'config', 'sha256'];
const FILE_KEYS = ['model', 'tokenizer', 'config'];
const LOAD_KEYS = ['biEncoder', 'crossEncoder', 'modelBaseUrl', 'onProgress', 'onWarning', 'cache', 'wasm', 'signal'];
const HEX64 = /^[0-9a-fA-F]{64}$/;

function checkKeys(obj, allowed, what) {
  if (obj === undefined || obj === null) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) fail('InvalidOption', `invalid option \`${what}\`: must be an object`);
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail('InvalidOption', `invalid option \`${what}\`: unknown option \`${k}\` (expected one of: ${allowed.join(', ')})`);
  }
}

/** `sha256` of a user's model: one digest (of `model`) or `{ model, tokenizer, config }`. */
function userDigests(role, sha) {
  if (sha === undefined) return {};
  const one = (v, name) => {
    if (typeof v !== 'string' || !HEX64.test(v)) fail('InvalidOption', `invalid option \`${name}\`: must be 64 hex digits (a SHA-256)`);
    return v.toLowerCase();
  };
  if (typeof sha === 'string') return { model: one(sha, `${role}.sha256`) };
  checkKeys(sha, FILE_KEYS, `${role}.sha256`);
  const out = {};
  for (const k of FILE_KEYS) if (sha[k] !== undefined) out[k] = one(sha[k], `${role}.sha256.${k}`);
  return out;
}

/**
 * Where a default model file comes from: the same files under `modelBaseUrl` (a CDN or your own
 * host: `<base>/bi-encoder/model.nnef.tar`, ...), or the package's own files (`minirank` only: bundlers
 * emit them). Either way it is checked against the package's SHA-256.
 */
function defaultSource(role, file, base, shipped) {
  if (base !== undefined) return new URL(file.path.replace(/^\.\/models\//, ''), base);
  if (shipped) return shipped.url();
  return fail('InvalidOption', `invalid option \`${role}.model\`: required, because 'minirank/core' carries no default models (import 'minirank' for them, or set \`modelBaseUrl\` to where they are hosted)`);
}

function baseUrl(base) {
  if (base === undefined) return undefined;
  if (typeof base !== 'string' && !(base instanceof URL)) fail('InvalidOption', 'invalid option `modelBaseUrl`: must be a URL or a string URL');
  const href = String(base instanceof URL ? base.href : base);
  try {
    return new URL(href.endsWith('/') ? href : `${href}/`, globalThis.location ? globalThis.location.href : import.meta.url);
  } catch {
    return fail('InvalidOption', `invalid option \`modelBaseUrl\`: not a URL: ${href}`);
  }
}

/**
 * The files of one model: the user's, or the defaults (`MODEL_MANIFEST[role]`, fetched as
 * `defaultSource` says). Every source is settled before any fetch starts; the files are then fetched
 * (or read from the Cache API) and checked at the same time.
 */
async function loadModel(role, given, opts) {
  const defaults = MODEL_MANIFEST[role];
  const shipped = opts.shipped && opts.shipped[role];
  checkKeys(given, MODEL_KEYS, role);
  const spec = given || {};
  const own = spec.model !== undefined; // a model of the user's: no default file is mixed in
  const digests = userDigests(role, spec.sha256);
  const sources = [];
  for (const key of FILE_KEYS) {
    let src = spec[key];
    let sha = digests[key];
    if (src === undefined && !own && defaults[key]) {
      src = defaultSource(role, defaults[key], opts.base, shipped && shipped[key]);
      sha = defaults[key].sha256;
    }
    if (src === undefined) {
      if (key !== 'config') fail('InvalidOption', `invalid option \`${role}.${key}\`: required when \`${role}.model\` is given`);
      continue;
    }
    sources.push([key, src, sha]);
  }
  throwIfAborted(opts.signal, 'load');
  const files = await Promise.all(sources.map(([key, src, sha]) =>
    fetchModelFile(src, { sha256: sha, cache: opts.cache, stage: `${role}.${key}`, onProgress: opts.onProgress, onWarning: opts.onWarning, signal: opts.signal })));
  return Object.fromEntries(sources.map(([key], i) => [key, files[i].bytes]));
}

/**
 * What `Minirank.load` and `Scorer.load` share: check the options, start the wasm core, and fetch
 * the files of each model in `roles` (the user's, or the defaults). Resolves to `files` (one
 * `{ model, tokenizer, config? }` per role) and the `core` that reads them, once it is ready.
 *
 * The core: the user's `wasm`; else the ONNX core when a model is an ONNX file, the NNEF core
 * otherwise. A model's format is known from its name or bytes (the package's models are NNEF), so
 * the core loads with the files; a URL that does not say is read first.
 */
async function loadFiles(options, keys, roles, shipped) {
  checkKeys(options, keys, 'options');
  const { onProgress, cache = true, signal, wasm } = options || {};
  throwIfAborted(signal, 'load');
  const base = baseUrl(options && options.modelBaseUrl);
  const onWarning = warner(options && options.onWarning);
  const coreOptions = { cache, onProgress, onWarning };
  const formats = roles.map((role) => formatOf(options && options[role] ? options[role].model : undefined));
  const early = wasm !== undefined && wasm !== null ? 'nnef' : formats.includes('onnx') ? 'onnx' : formats.includes(null) ? null : 'nnef';
  // both models' files at once, and with the wasm core: their reads and digests overlap
  const coreReady = early && startCore(early, wasm, coreOptions);
  if (coreReady) coreReady.catch(() => {}); // awaited below, after the files
  const files = await Promise.all(roles.map((role) => loadModel(role, options && options[role], { cache, onProgress, onWarning, base, signal, shipped })));
  const core = await (coreReady || startCore(files.some((f) => !isNnefBytes(f.model)) ? 'onnx' : 'nnef', wasm, coreOptions));
  throwIfAborted(signal, 'load');
  return { files, core };
}

/**
 * Two-stage semantic search in the browser (or Node): bi-encoder retrieval + cross-encoder reranking.
 *
 * `load`, `index`, `retrieve`, `rerank` and `search` take a `signal` (an AbortSignal) in their
 * options: an aborted call rejects with code 'Aborted'. `load` stops its downloads; `index` stops
 * between two slices and leaves the index exactly as it was. On this thread a `search` that has
 * started runs to its end (it is one wasm call); `minirank/worker` skips calls still queued and
 * rejects a running read at once.
 */
export class Minirank {
  /** Use `Minirank.load()`. */
  constructor(engine) {
    this._engine = engine;
    this._indexing = Promise.resolve();
  }

  /**
   * The files of the default models (`{ biEncoder: { model: { url() }, ... }, crossEncoder }`):
   * none here; `Minirank` from 'minirank' has the package's.
   */
  static defaultModels = null;

  /**
   * Load both models (the package's int8 models by default, from 'minirank') and the wasm core.
   * @param {object} [options] `{ biEncoder, crossEncoder, modelBaseUrl, onProgress, cache = true, wasm }`
   */
  static async load(options = {}) {
    const { onProgress, signal } = options || {};
    const { files: [bi, ce], core } = await loadFiles(options, LOAD_KEYS, ['biEncoder', 'crossEncoder'], this.defaultModels);
    onProgress && onProgress({ stage: 'compile', loaded: 0, total: 1 });
    const engine = loading(core, () => new core.Engine(bi.model, bi.tokenizer, ce.model, ce.tokenizer, bi.config, ce.config));
    onProgress && onProgress({ stage: 'compile', loaded: 1, total: 1 });
    if (signal && signal.aborted) { // aborted while the graphs were built: the models are freed
      engine.free();
      throw abortError(signal, 'load');
    }
    return new this(engine);
  }

  /** Number of indexed documents. */
  get size() { return this._engine.size; }
  /** Embedding dimension. */
  get dim() { return this._engine.dim; }

  /**
   * Embed and index documents: strings, or `{ id, text, metadata, parent }` objects. An existing
   * id is replaced. All or nothing. With `setChunking`, long documents become passages
   * `id#0`, `id#1`, ... (parent `id`); the count returned is of index entries. Yields to the event loop between slices of `sliceSize` documents
   * so that `onProgress({stage: 'index', loaded, total})` can repaint a page.
   */
  index(docs, options) {
    return this._inOrder(() => this._indexNow(docs, options));
  }

  /**
   * Run an indexing call after the ones before it. Calls overlap when a page indexes twice without
   * waiting: each runs alone, in order, so that one call's staged documents are never committed
   * or dropped by another.
   */
  _inOrder(run) {
    const done = this._indexing.then(run);
    this._indexing = done.catch(() => {});
    return done;
  }

  /**
   * Index documents with vectors computed elsewhere (by this bi-encoder: on a server, or saved
   * from `embed`): `vectors` is a Float32Array of `docs.length × dim` numbers, row by row. No model
   * runs, so 100,000 documents take seconds. All or nothing; in order with `index` calls.
   */
  indexVectors(docs, vectors) {
    return this._inOrder(() => this._engine.indexVectors(docs, vectors));
  }

  async _indexNow(docs, { onProgress, sliceSize = 64, signal } = {}) {
    throwIfAborted(signal, 'index');
    if (!Array.isArray(docs)) return this._engine.index(docs); // throws the typed error
    if (!Number.isInteger(sliceSize) || sliceSize < 1) fail('InvalidOption', 'invalid option `sliceSize`: must be a whole number of at least 1');
    const total = docs.length;
    onProgress && onProgress({ stage: 'index', loaded: 0, total });
    try {
      for (let i = 0; i < total; i += sliceSize) {
        // an abort between two slices drops what was embedded: the index stays as it was
        throwIfAborted(signal, 'index');
        this._engine.embedPending(docs.slice(i, i + sliceSize));
        onProgress && onProgress({ stage: 'index', loaded: Math.min(i + sliceSize, total), total });
        if (i + sliceSize < total) await new Promise((r) => setTimeout(r, 0));
      }
      throwIfAborted(signal, 'index');
      return this._engine.commitPending();
    } finally {
      this._engine.discardPending();
    }
  }

  /**
   * Stage 1: `[{ id, text, score, metadata?, parent? }]`, best first.
   * Options `{ k = 20, retrieval: 'dense' | 'bm25' | 'hybrid', hybrid, filter }`.
   */
  async retrieve(query, options) { return this._engine.retrieve(query, splitSignal(options, 'retrieve')[0]); }

  /**
   * Stage 2 on any candidates (strings, or objects with `text` and optional `id`, `score`,
   * `metadata`). Returns `{ hits, noConfidentAnswer, bestLogit, bestScore, scored, cacheHits }`.
   */
  async rerank(query, candidates, options) { return this._engine.rerank(query, candidates, splitSignal(options, 'rerank')[0]); }

  /**
   * Raw cross-encoder logits for `(query, text)` pairs, in order (`Float32Array`): no cache, no
   * sorting. `texts` are strings or `{ text }` objects; options `{ batchSize, maxLength }`.
   * Logits computed here (or in other workers) can be passed back as `rerank(..., { logits })`.
   */
  scorePairs(query, texts, options) { return this._engine.scorePairs(query, texts, options); }

  /**
   * All stages: retrieval (dense, BM25 or hybrid; filtered), optional cascade stages, the
   * cross-encoder, optional signals and parent grouping. Resolves to
   * `{ candidates, cascade?, hits, noConfidentAnswer, bestLogit, bestScore, scored, cacheHits }`.
   */
  async search(query, options) { return this._engine.search(query, splitSignal(options, 'search')[0]); }

  /**
   * The first half of `search` (or `rerank`), for sharing the cross-encoder among workers:
   * resolves to `{ id, query, texts, options }`. Score `texts` with `scorePairs(query, texts,
   * options)` anywhere, in shards, then `finish(id, logits)`; `abandon(id)` drops a job.
   */
  prepareSearch(query, options) { return this._engine.prepareSearch(query, splitSignal(options, 'search')[0]); }
  prepareRerank(query, candidates, options) { return this._engine.prepareRerank(query, candidates, splitSignal(options, 'rerank')[0]); }
  /** The second half: the logits of the job's `texts`, in order; resolves as `search` / `rerank`. */
  finish(id, logits) { return this._engine.finish(id, logits); }
  abandon(id) { return this._engine.abandon(id); }

  /** Split documents longer than `maxTokens` into passages when indexing (`null`: keep whole). */
  setChunking(chunking) { this._engine.setChunking(chunking); }
  /** BM25 settings `{ k1, b, stopWords }`. */
  setBm25(params) { this._engine.setBm25(params); }

  /** Unit-length embedding of a text (Float32Array). */
  embed(text) { return this._engine.embed(text); }
  /** Remove a document by id; returns whether it was indexed. */
  remove(id) { return this._engine.remove(id); }
  /** Remove every document. */
  clear() { this._engine.clear(); }
  /** The index as bytes (versioned, checksummed): store it in IndexedDB. */
  saveIndex() { return this._engine.saveIndex(); }
  /** Replace the index with saved bytes; returns the number of documents. */
  loadIndex(bytes) { return this._engine.loadIndex(bytes); }
  /** `{ entries, hits, misses }` of the cross-encoder score cache. */
  cacheStats() { return this._engine.cacheStats(); }
  /** Resize the score cache (0 disables it). */
  setCacheCapacity(entries) { this._engine.setCacheCapacity(entries); }
  /** Set `{ maxDocuments, maxDocumentBytes }`; adding past them throws instead of exhausting memory. */
  setLimits(limits) { this._engine.setLimits(limits); }
  /** `{ maxDocuments, maxDocumentBytes, memoryBytes }`. */
  getLimits() { return this._engine.getLimits(); }
  /** Free the wasm memory of this instance. */
  free() { this._engine.free(); }
}

const SCORER_KEYS = ['crossEncoder', 'modelBaseUrl', 'onProgress', 'onWarning', 'cache', 'wasm', 'signal'];

/**
 * The cross-encoder alone: for reranking candidates that come from elsewhere (a server, another
 * engine) without downloading the bi-encoder, and for the extra workers of a `MinirankWorker`
 * pool. `await Scorer.load({ crossEncoder, cache, onProgress, wasm })`, then `scorePairs`.
 */
export class Scorer {
  constructor(core) { this._core = core; }

  /** As `Minirank.defaultModels`. */
  static defaultModels = null;

  static async load(options = {}) {
    const { files: [ce], core } = await loadFiles(options, SCORER_KEYS, ['crossEncoder'], this.defaultModels);
    return new this(loading(core, () => new core.Scorer(ce.model, ce.tokenizer, ce.config)));
  }

  /** As `Minirank.prototype.scorePairs`. */
  scorePairs(query, texts, options) { return this._core.scorePairs(query, texts, options); }
  /** Free the wasm memory of this scorer. */
  free() { this._core.free(); }
}

// ---- Persistence: the index in IndexedDB, so a reload does not embed everything again ----

const IDB_FORMAT = 'minirank-index';
const IDB_VERSION = 1;
const IDB_DEFAULTS = { dbName: 'minirank', store: 'indexes', key: 'default' };

function idbOptions(options) {
  checkKeys(options, Object.keys(IDB_DEFAULTS), 'options');
  const o = { ...IDB_DEFAULTS, ...(options || {}) };
  for (const k of Object.keys(IDB_DEFAULTS)) {
    if (typeof o[k] !== 'string' || !o[k]) fail('InvalidOption', `invalid option \`${k}\`: must be a non-empty string`);
  }
  if (!globalThis.indexedDB) fail('StorageUnavailable', 'IndexedDB is not available here (Node, a private window, or storage disabled): the index is not saved');
  return o;
}

function idbRequest(req, what) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storageError(req.error, `IndexedDB: ${what}`));
    // another tab holds an older version of the database open
    req.onblocked = () => reject(new MinirankError('StorageUnavailable', `IndexedDB: ${what}: blocked by another tab that has the database open`));
  });
}

/** A store in a transaction; every failure is a MinirankError ('QuotaExceeded', 'StorageUnavailable'). */
async function idbStore(o, mode) {
  let open;
  try {
    open = globalThis.indexedDB.open(o.dbName, 1);
  } catch (e) {
    throw storageError(e, `IndexedDB: could not open ${o.dbName}`);
  }
  open.onupgradeneeded = () => open.result.createObjectStore(o.store);
  const db = await idbRequest(open, `could not open ${o.dbName}`);
  if (!db.objectStoreNames.contains(o.store)) {
    db.close();
    fail('StorageUnavailable', `IndexedDB database ${o.dbName} has no store ${o.store}`);
  }
  const tx = db.transaction(o.store, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => { db.close(); resolve(); };
    tx.onerror = tx.onabort = () => { db.close(); reject(storageError(tx.error, `IndexedDB: the ${mode} of ${o.key} failed`)); };
  });
  done.catch(() => {}); // awaited by the caller; a request's own error may come first
  return { store: tx.objectStore(o.store), tx, done };
}

/**
 * Save the index of `mr` (a `Minirank` or a `MinirankWorker`) to IndexedDB under `key`.
 * Resolves to `{ bytes, documents, savedAt }`. The record is one `put` in one transaction, so a
 * failed save (storage full: code 'QuotaExceeded') leaves the record saved before whole.
 */
export async function saveIndexToIndexedDB(mr, options) {
  const o = idbOptions(options);
  const bytes = await mr.saveIndex();
  const record = { format: IDB_FORMAT, version: IDB_VERSION, size: bytes.byteLength, sha256: await sha256(bytes), documents: mr.size, savedAt: Date.now(), bytes };
  const { store, tx, done } = await idbStore(o, 'readwrite');
  try {
    store.put(record, o.key);
  } catch (e) {
    try { tx.abort(); } catch { /* already over */ }
    throw storageError(e, `IndexedDB: ${o.key} could not be saved`);
  }
  await done;
  return { bytes: record.size, documents: record.documents, savedAt: record.savedAt };
}

/**
 * Restore an index saved by `saveIndexToIndexedDB` into `mr`. Resolves to
 * `{ documents, savedAt }`, or `null` when nothing is saved under `key`. A record of another
 * format version, of the wrong size or digest, or built with another embedding model is refused
 * with a `MinirankError` (code 'CorruptIndex') and the current index is kept.
 */
export async function loadIndexFromIndexedDB(mr, options) {
  const o = idbOptions(options);
  const { store, done } = await idbStore(o, 'readonly');
  const record = await idbRequest(store.get(o.key), `could not read ${o.key}`);
  await done;
  if (record === undefined) return null;
  if (!record || record.format !== IDB_FORMAT) fail('CorruptIndex', `index bytes rejected: the IndexedDB record ${o.key} is not a minirank index`);
  if (record.version !== IDB_VERSION) fail('CorruptIndex', `index bytes rejected: record version ${record.version} is not supported (this package reads ${IDB_VERSION})`);
  const bytes = toBytes(record.bytes);
  if (!bytes || bytes.byteLength !== record.size) fail('CorruptIndex', `index bytes rejected: expected ${record.size} bytes, found ${bytes ? bytes.byteLength : 0}`);
  if ((await sha256(bytes)) !== record.sha256) fail('CorruptIndex', 'index bytes rejected: the stored digest does not match the bytes');
  const documents = await mr.loadIndex(bytes);
  return { documents, savedAt: record.savedAt };
}

/** Delete a saved index; resolves to whether there was one. */
export async function deleteIndexFromIndexedDB(options) {
  const o = idbOptions(options);
  const { store, done } = await idbStore(o, 'readwrite');
  const existed = (await idbRequest(store.getKey(o.key), `could not read ${o.key}`)) !== undefined;
  store.delete(o.key);
  await done;
  return existed;
}

export { DEFAULT_WASM, MODEL_MANIFEST, ONNX_WASM };
export default Minirank;
