// The page's side of minirank/worker (and minirank/core/worker): the same API as `Minirank`,
// running in a Web Worker so that the page never freezes while models load, documents are embedded
// or candidates are reranked. worker.js and core-worker.js subclass it, each naming its own worker
// script with the literal `new Worker(new URL(...), { type: 'module' })` that bundlers follow.
//
// `workers: n` starts n − 1 more workers holding only the cross-encoder, building it while the
// first builds its models: `rerank` and `search` then score their candidates in parallel, a share per worker (each
// extra worker costs its own cross-encoder load and memory: `memoryBytes()` gives each worker's).
// The default, 'auto', is `autoWorkers()`: half the device's cores, from 2 to 4 (1 on a single
// core), fewer where the device has little memory.
//
// Calls are answered in order. Bytes (models, saved indexes) move as transferables. The methods
// that `Minirank` has too are defined from the method table (methods.js), which says how each travels.
import { abortError, splitSignal, throwIfAborted } from './abort.js';
import { MinirankError, warn } from './errors.js';
import { isHubModel } from './hub.js';
import { defineMethods } from './methods.js';
import { isPoolingMode } from './options.js';
import { baseHref } from './platform.js';
import { abortable, loadingCrossEncoder, progressiveSearch, scorePrepared } from './progressive.js';
import { fromSource } from './remote.js';

/**
 * The pool size `workers: 'auto'` (the default) picks: half of `navigator.hardwareConcurrency`
 * (the page and the browser keep the rest), at most 4, and 2 on 2 or 3 cores (a rerank is a burst
 * that the page waits for, which two workers finish sooner than one even on 2 cores:
 * docs/performance.md); 1 on a single core. At most 2 where `navigator.deviceMemory` (Chromium only) says
 * 4 GB or less, and 1 at 2 GB or less, since each extra worker holds its own cross-encoder.
 */
export function autoWorkers(nav = globalThis.navigator) {
  const cores = Number(nav && nav.hardwareConcurrency) || 1;
  let n = cores < 2 ? 1 : Math.min(4, Math.max(2, Math.floor(cores / 2)));
  const memory = nav && Number(nav.deviceMemory);
  if (memory > 0 && memory <= 2) n = 1;
  else if (memory > 0 && memory <= 4) n = Math.min(n, 2);
  return n;
}

function sourceForWorker(src, transfer) {
  if (src instanceof URL) return src.href;
  if (typeof src === 'string') return new URL(src, baseHref()).href;
  if (src instanceof ArrayBuffer) {
    transfer.push(src);
    return src;
  }
  if (ArrayBuffer.isView(src)) {
    const copy = src.slice ? src.slice() : new Uint8Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
    transfer.push(copy.buffer);
    return copy;
  }
  return src;
}

/**
 * Load options as a worker can receive them: URLs as absolute strings (a URL object cannot be
 * posted, and a relative one must not resolve against the worker's own location), bytes moved by
 * `transfer`; with `copy`, the caller's bytes are copied first and kept.
 */
function forWorker(options, transfer, copy) {
  const move = (src) => sourceForWorker(copy && src instanceof ArrayBuffer ? src.slice(0) : src, transfer);
  const out = { ...options };
  for (const k of ['wasm', 'modelBaseUrl', 'hubUrl']) if (out[k] !== undefined) out[k] = move(out[k]);
  for (const role of ['biEncoder', 'crossEncoder']) {
    if (!out[role] || typeof out[role] !== 'object') continue;
    out[role] = { ...out[role] };
    for (const k of ['model', 'tokenizer', 'config', 'pooling']) {
      const v = out[role][k];
      // a file (URL or bytes), not a pooling mode
      if (v !== undefined && !(k === 'pooling' && isPoolingMode(v))) out[role][k] = move(v);
    }
  }
  return out;
}

let lockNames = 0;

export class MinirankWorkerClient {
  /** Use `MinirankWorker.load()`. */
  constructor(worker) {
    this._worker = worker;
    this._helpers = [];
    this._next = 1;
    this._pending = new Map();
    this._lost = null; // the error of a worker that stopped by itself
    this.size = 0;
    this.dim = 0;
    this.fingerprint = 0;
    /** Resolves once the cross-encoder is loaded (at once, unless it loads after `load` with `deferCrossEncoder`). */
    this.crossEncoderReady = Promise.resolve();
    this._ceReady = true;
    this._primaryScores = true; // false: the first worker holds no cross-encoder (its pool's others do)
    worker.onmessage = (e) => this._onMessage(e.data);
    worker.onerror = (e) => {
      // a start-up failure (a 404, a syntax error, a blocked module) often comes without a message
      const where = e && e.filename ? ` (${e.filename}:${e.lineno || 0}:${e.colno || 0})` : '';
      this._failAll(new MinirankError('Worker', `worker error: ${(e && e.message) || 'the worker failed to start or crashed'}${where}`));
    };
    worker.onmessageerror = () => this._failAll(new MinirankError('Worker', 'a message from the worker could not be read'));
  }

  /**
   * Start a worker, learn of its end, and load it (`method`: 'load' or 'loadScorer').
   *
   * A worker can stop without a word: terminated, crashed, killed for memory, or closed by itself
   * after its wasm trapped. The worker holds a Web Lock for its whole life and this side queues for
   * the same lock, which it is granted only when the worker is gone: every pending call then
   * rejects with `code: 'WorkerLost'` instead of hanging. (Without Web Locks, e.g. on a plain-http
   * origin, a silent end is not detected.)
   */
  static async _spawn(start, method, [send, transfer, ...more], { onProgress, onWarning, signal } = {}) {
    const mw = new this(start());
    try {
      const locks = globalThis.navigator && globalThis.navigator.locks;
      const name = `minirank-worker-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${lockNames++}`;
      if (locks && (await mw._call('hold', [name]))) locks.request(name, () => mw._gone());
      await mw._call(method, [send, ...more], { transfer, onProgress, onWarning, signal });
    } catch (e) {
      mw.terminate();
      throw e;
    }
    return mw;
  }

  _gone() {
    if (!this._worker) return; // terminated by this side
    this._worker.terminate();
    this._worker = null;
    this._lost = new MinirankError(
      'WorkerLost',
      'the worker stopped (terminated, crashed, or out of memory): its calls were rejected; load a new MinirankWorker',
    );
    for (const h of this._helpers) h.terminate(); // a pool without its primary worker is over
    this._helpers = [];
    this._failAll(this._lost);
    if (this.onLost) this.onLost(this);
  }

  /** The worker of this entry point (a subclass names its script). */
  static startWorker() {
    throw new MinirankError('Worker', "import MinirankWorker from 'minirank/worker' or 'minirank/core/worker'");
  }

  /**
   * Start a worker and load the models in it. Options as `Minirank.load` (URLs or bytes),
   * plus `workerUrl` to point at a copy of the worker script (worker-entry.js). With
   * `deferCrossEncoder`, resolve once the first worker has the bi-encoder: in a pool the
   * cross-encoder loads in the other workers only (the first never holds one), in a single worker
   * after the bi-encoder; `crossEncoderReady` says when it is there.
   */
  static async load(options = {}) {
    const { onProgress, onWarning, workerUrl, workers: asked = 'auto', signal, ...rest } = options || {};
    const defer = !!(rest && rest.deferCrossEncoder);
    throwIfAborted(signal, 'load');
    if (asked !== 'auto' && (!Number.isInteger(asked) || asked < 1 || asked > 16)) {
      throw new MinirankError('InvalidOption', "invalid option `workers`: must be 'auto' or a whole number from 1 to 16");
    }
    const workers = asked === 'auto' ? autoWorkers() : asked;
    if (typeof Worker === 'undefined') {
      throw new MinirankError('Worker', "Web Workers are not available here (Node has no global Worker): use Minirank from 'minirank' instead");
    }
    const start = () => (workerUrl ? new Worker(workerUrl, { type: 'module' }) : this.startWorker());
    // The extra workers need the cross-encoder only. Their options are kept (bytes as one copy,
    // taken before the primary's are transferred) so that a lost helper can be replaced.
    const { cache, wasm, modelBaseUrl, crossEncoder, hubUrl, dtype, revision } = rest;
    const hub = isHubModel(crossEncoder) ? { hubUrl, dtype, revision } : {};
    const kept = forWorker({ cache, wasm, modelBaseUrl, crossEncoder, ...hub }, [], true);
    const helperSpec = () => {
      const transfer = [];
      return [forWorker(kept, transfer, true), transfer];
    };
    const startHelper = (s) => this._spawn(start, 'loadScorer', helperSpec(), { onWarning, signal: s });
    // The extra workers build their cross-encoder while the first builds its models (each on a
    // core of its own): they start once the first has its files, so that they read them from the
    // Cache API instead of downloading them again. With `deferCrossEncoder` they start once the
    // first has the bi-encoder, which then answers without sharing the cores with them.
    let helpers = [];
    const startHelpers = () => {
      if (helpers.length || workers < 2) return;
      helpers = Array.from({ length: workers - 1 }, () => startHelper(signal));
      for (const h of helpers) h.catch(() => {}); // seen by Promise.all below; never unhandled
    };
    const progress = (p) => {
      if (p && p.stage === 'compile' && !p.loaded && !defer) startHelpers();
      if (onProgress) onProgress(p);
    };
    const dropHelpers = () => {
      for (const h of helpers) h.then((w) => w.terminate()).catch(() => {});
    };
    const transfer = [];
    const send = forWorker(rest, transfer, false);
    const ceMode = !defer ? 'now' : workers > 1 ? 'none' : 'background';
    // an aborted load terminates its workers, which frees all their memory
    let mw;
    try {
      mw = await this._spawn(start, 'load', [send, transfer, ceMode], { onProgress: progress, onWarning, signal });
      mw._kernel = await mw._call('int8Kernel', []);
      mw._startHelper = startHelper;
      startHelpers(); // if no progress said that the files were there
      if (!defer) for (const h of await Promise.all(helpers)) mw._adopt(h);
      throwIfAborted(signal, 'load');
    } catch (e) {
      dropHelpers();
      if (mw) mw.terminate();
      throw e;
    }
    if (ceMode === 'none') {
      mw._primaryScores = false;
      const adopted = Promise.all(helpers).then(
        (loaded) => {
          for (const h of loaded) mw._adopt(h);
        },
        (e) => {
          dropHelpers();
          throw e;
        },
      );
      loadingCrossEncoder(mw, adopted);
    } else if (ceMode === 'background') {
      loadingCrossEncoder(mw, mw._call('whenCrossEncoder', []));
    }
    return mw;
  }

  /** Take a loaded helper into the pool; a helper that is lost later is replaced by a new one. */
  _adopt(h) {
    if (!this._worker) {
      // the pool ended meanwhile
      h.terminate();
      return;
    }
    h.onLost = () => this._replace(h);
    this._helpers.push(h);
    // the primary's int8 kernel, so that a pair scores the same in every worker (queued before
    // any scoring sent to it; a helper that cannot run it keeps its own)
    if (this._kernel) h._call('int8Kernel', [this._kernel]).catch(() => {});
  }

  /** Start one more helper (replacing a lost one). */
  async _addHelper(signal) {
    this._adopt(await this._startHelper(signal));
  }

  _replace(h) {
    const i = this._helpers.indexOf(h);
    if (i < 0) return;
    this._helpers.splice(i, 1);
    h.terminate();
    // a helper that cannot be started again: the pool goes on with fewer workers
    this._replacing = (this._replacing || Promise.resolve())
      .then(() => this._addHelper())
      .catch((e) => {
        this._replaceError = e;
      });
  }

  /** Number of workers (the primary and those holding only the cross-encoder). */
  get workers() {
    return 1 + this._helpers.length;
  }

  /**
   * The logits of a prepared job's texts, scored by all workers that hold the cross-encoder at
   * once: texts are dealt longest first, each to the least loaded worker, and posted a batch
   * (`job.options.batchSize`) at a time, so that an abort skips what is still queued; `job.options`
   * (from the core) go along unread.
   */
  async _scoreShards(job, signal) {
    const all = this._primaryScores ? [this, ...this._helpers] : [...this._helpers];
    if (!all.length) throw new MinirankError('WorkerLost', 'no worker of the pool holds a cross-encoder any more: load a new MinirankWorker');
    const shares = all.map(() => ({ load: 0, idx: [] }));
    for (const i of job.texts.map((_, i) => i).sort((a, b) => job.texts[b].length - job.texts[a].length)) {
      const s = shares.reduce((best, x) => (x.load < best.load ? x : best));
      s.idx.push(i);
      s.load += job.texts[i].length;
    }
    // a helper that is gone (lost, or terminated) leaves its share to another worker
    const score = (w, idx) => {
      const args = [job.query, idx.map((i) => job.texts[i]), job.options];
      return all[w]._call('scorePairs', args, { signal }).catch((e) => {
        if (all[w] === this || !(e && (e.code === 'WorkerLost' || e.code === 'Worker'))) throw e;
        this._replace(all[w]);
        const other = this._primaryScores ? this : this._helpers.find((h) => h !== all[w]);
        if (!other) throw e;
        return other._call('scorePairs', args, { signal });
      });
    };
    const batch = Math.max(1, (job.options && job.options.batchSize) || 8);
    const inBatches = async (w, idx) => {
      const calls = [];
      for (let i = 0; i < idx.length; i += batch) calls.push(score(w, idx.slice(i, i + batch)));
      return (await Promise.all(calls)).flatMap((part) => Array.from(part));
    };
    const parts = await Promise.all(shares.map((s, w) => inBatches(w, s.idx)));
    const logits = new Float32Array(job.texts.length);
    for (const [w, s] of shares.entries()) {
      for (const [j, i] of s.idx.entries()) logits[i] = parts[w][j];
    }
    return logits;
  }

  /** The steps of a progressive search (progressive.js) on this pool. */
  _stages() {
    return {
      fused: (query, options, signal) => this._call('searchFused', [query, options], { signal }),
      // an aborted job is skipped if still queued, else made and then abandoned (not left in the worker)
      prepare: (query, options, signal) => this._call('prepareSearch', [query, options], { signal, waitForWorker: true }),
      ready: () => this.crossEncoderReady,
      score: (job, signal) => this._scoreShards(job, signal),
      finish: (id, logits) => this._call('finish', [id, logits]),
      abandon: (id) => this._call('abandon', [id]),
    };
  }

  /**
   * A search or rerank on the pool: the primary worker prepares it (retrieval, cascade, cache,
   * checks: the core's own path) when the call is made, every worker that holds the cross-encoder
   * scores a share (once it is loaded), the primary finishes it. A failure anywhere rejects the
   * call; an aborted one is skipped while queued, and a job already made is abandoned.
   */
  _pooled(prepare, args, signal) {
    const prepared = this._call(prepare, args, { signal, waitForWorker: true });
    const steps = { ...this._stages(), finish: (id, logits) => this._call('finish', [id, logits], { signal }) };
    return scorePrepared(prepared, steps, signal, prepare);
  }

  _onMessage(msg) {
    const p = this._pending.get(msg.id);
    if (!p) return;
    if (msg.progress) {
      p.onProgress && p.onProgress(msg.progress);
      return;
    }
    if (msg.warning) {
      warn(p.onWarning, new MinirankError(msg.warning.code, msg.warning.message));
      return;
    }
    this._pending.delete(msg.id);
    if (p.cleanup) p.cleanup();
    if (msg.state) {
      this.size = msg.state.size;
      this.dim = msg.state.dim;
      this.fingerprint = msg.state.fingerprint;
    }
    if (msg.error) p.reject(new MinirankError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  }

  _failAll(err) {
    for (const p of this._pending.values()) {
      if (p.cleanup) p.cleanup();
      p.reject(err);
    }
    this._pending.clear();
  }

  /**
   * Post a call. With a `signal`, an abort tells the worker to skip the call if it is still queued
   * (or to stop it, for `load` and `index`); the promise then rejects at once with code 'Aborted',
   * unless `waitForWorker`: then it settles with the worker's answer (an `index` that was already
   * committed when the abort arrived resolves; otherwise nothing of it is kept).
   */
  _call(method, args, { transfer = [], onProgress, onWarning, signal, waitForWorker = false } = {}) {
    if (!this._worker) return Promise.reject(this._lost || new MinirankError('Worker', 'the worker was terminated'));
    const id = this._next++;
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, onProgress, onWarning };
      this._pending.set(id, p);
      this._worker.postMessage({ id, method, args, wantProgress: !!onProgress }, transfer);
      if (!signal) return;
      const onAbort = () => {
        if (!this._pending.has(id) || !this._worker) return;
        const r = signal.reason;
        this._worker.postMessage({ cancel: id, reason: r === undefined ? undefined : String(r && r.message ? r.message : r) });
        if (waitForWorker) return;
        this._pending.delete(id);
        reject(abortError(signal, method));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.cleanup = () => signal.removeEventListener('abort', onAbort);
    });
  }

  /**
   * A call of a method of the table (methods.js), made as its entry `how` says: `signal` kept on
   * this side, bytes transferred, a pooled call scored by every worker, a call made on each worker.
   */
  async _invoke(name, how, args) {
    if (how.each) return Promise.all([this, ...this._helpers].map((w) => w._call(how.each, [])));
    const transfer = [];
    let signal;
    let onProgress;
    if (how.transfer !== undefined) args[how.transfer] = sourceForWorker(args[how.transfer], transfer);
    if (how.progress) {
      const { onProgress: report, signal: given, ...options } = args[how.signal] === undefined ? {} : args[how.signal];
      throwIfAborted(given, name);
      args[how.signal] = options;
      signal = given;
      onProgress = report;
    } else if (how.signal !== undefined) {
      [args[how.signal], signal] = splitSignal(args[how.signal], name);
    }
    // the source is a function of the page's: it is called here, the worker embeds and reranks
    if (how.source && args[how.signal] && args[how.signal].source !== undefined) return fromSource(this, name, args[0], args[how.signal], signal);
    if (how.stages && args[how.signal] && args[how.signal].onStage !== undefined) {
      const { onStage, ...options } = args[how.signal];
      return progressiveSearch(this, this._stages(), args[0], options, onStage, signal);
    }
    // a search or rerank made while the cross-encoder loads is prepared at once, scored when it is there
    if (how.pooled && (this._helpers.length || !this._ceReady || !this._primaryScores)) return this._pooled(how.pooled, args, signal);
    if (how.needsCE && !this._ceReady) await abortable(this.crossEncoderReady, signal, name);
    // the first worker holds no cross-encoder: its pool's others score
    if (name === 'scorePairs' && !this._primaryScores) return this._helpers[0]._call(name, args);
    return this._call(name, args, { transfer, onProgress, signal, waitForWorker: !!how.progress });
  }

  /** Stop the worker (and the pool's other workers) and free their memory. */
  terminate() {
    for (const h of this._helpers) h.terminate();
    this._helpers = [];
    if (this._worker) this._worker.terminate();
    this._worker = null;
    this._failAll(new MinirankError('Worker', 'the worker was terminated'));
  }
}

defineMethods(
  MinirankWorkerClient,
  (name, how) =>
    function (...args) {
      return this._invoke(name, how, args);
    },
);
