// minirank/worker — the same API as `Minirank`, running in a Web Worker so that the page never
// freezes while models load, documents are embedded or candidates are reranked.
//
//   import { MinirankWorker } from 'minirank/worker';
//   const mr = await MinirankWorker.load({ onProgress });
//   await mr.index(docs, { onProgress });
//   const { hits } = await mr.search(query, { candidates: 20, topK: 5 });
//
// `workers: n` (default 1) starts n − 1 more workers holding only the cross-encoder: `rerank`
// and `search` then score their candidates in parallel, a share per worker (each extra worker
// costs its own cross-encoder load and memory: `memoryBytes()` gives each worker's).
//
// Calls are answered in order. Bytes (models, saved indexes) move as transferables.
import { MinirankError } from './minirank.js';

function sourceForWorker(src, transfer) {
  if (src instanceof URL) return src.href;
  if (typeof src === 'string') return new URL(src, globalThis.location ? globalThis.location.href : import.meta.url).href;
  if (src instanceof ArrayBuffer) { transfer.push(src); return src; }
  if (ArrayBuffer.isView(src)) {
    const copy = src.slice ? src.slice() : new Uint8Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
    transfer.push(copy.buffer);
    return copy;
  }
  return src;
}

/** Sources of one model for a worker; `copy` copies bytes instead of moving the caller's. */
function copySources(spec, transfer, copy) {
  const out = { ...spec };
  for (const k of ['model', 'tokenizer', 'config']) {
    if (out[k] === undefined) continue;
    const src = copy && out[k] instanceof ArrayBuffer ? out[k].slice(0) : out[k];
    out[k] = sourceForWorker(src, transfer);
  }
  return out;
}

export class MinirankWorker {
  /** Use `MinirankWorker.load()`. */
  constructor(worker) {
    this._worker = worker;
    this._helpers = [];
    this._next = 1;
    this._pending = new Map();
    this.size = 0;
    this.dim = 0;
    worker.onmessage = (e) => this._onMessage(e.data);
    worker.onerror = (e) => this._failAll(new MinirankError('Worker', `worker error: ${e.message || e}`));
    worker.onmessageerror = () => this._failAll(new MinirankError('Worker', 'a message from the worker could not be read'));
  }

  /**
   * Start a worker and load the models in it. Options as `Minirank.load` (URLs or bytes),
   * plus `workerUrl` to point at a copy of worker-entry.js.
   */
  static async load(options = {}) {
    const { onProgress, workerUrl, workers = 1, ...rest } = options || {};
    if (!Number.isInteger(workers) || workers < 1 || workers > 16) {
      throw new MinirankError('InvalidOption', 'invalid option `workers`: must be a whole number from 1 to 16');
    }
    const start = () => new Worker(workerUrl || new URL('./worker-entry.js', import.meta.url), { type: 'module' });
    // The extra workers need the cross-encoder only; bytes are copied for each before the
    // primary's copy is transferred.
    const helperLoads = [];
    for (let i = 1; i < workers; i++) {
      const transfer = [];
      const send = { cache: rest.cache, wasm: rest.wasm };
      if (rest.crossEncoder && typeof rest.crossEncoder === 'object') send.crossEncoder = copySources(rest.crossEncoder, transfer, true);
      helperLoads.push([send, transfer]);
    }
    const mw = new MinirankWorker(start());
    const transfer = [];
    const send = { ...rest };
    for (const role of ['biEncoder', 'crossEncoder']) {
      if (send[role] && typeof send[role] === 'object') send[role] = copySources(send[role], transfer, false);
    }
    try {
      await mw._call('load', [send], transfer, onProgress);
      await Promise.all(helperLoads.map(([s, t]) => {
        const h = new MinirankWorker(start());
        mw._helpers.push(h); // terminated with the pool if another one fails
        return h._call('loadScorer', [s], t);
      }));
    } catch (e) {
      mw.terminate();
      throw e;
    }
    return mw;
  }

  /** Number of workers (the primary and those holding only the cross-encoder). */
  get workers() { return 1 + this._helpers.length; }

  /**
   * Cross-encoder logits for the candidates, computed in parallel: candidates are dealt to the
   * workers longest first, each to the least loaded one. Returns null when the options are not
   * a plain object or a worker refuses its share, so that the caller runs the single-worker call
   * (which throws the error with the right names).
   */
  async _poolLogits(query, candidates, options) {
    if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) return null;
    const texts = candidates.map((c) => (typeof c === 'string' ? c : c && c.text));
    if (texts.some((t) => typeof t !== 'string')) return null;
    const all = [this, ...this._helpers];
    const shares = all.map(() => ({ load: 0, idx: [] }));
    for (const i of texts.map((_, i) => i).sort((a, b) => texts[b].length - texts[a].length)) {
      const s = shares.reduce((best, x) => (x.load < best.load ? x : best));
      s.idx.push(i);
      s.load += texts[i].length;
    }
    const o = {};
    for (const k of ['batchSize', 'maxLength']) if (options && options[k] !== undefined) o[k] = options[k];
    try {
      const parts = await Promise.all(shares.map((s, w) => (s.idx.length ? all[w]._call('scorePairs', [query, s.idx.map((i) => texts[i]), o]) : [])));
      const logits = new Float32Array(texts.length);
      shares.forEach((s, w) => s.idx.forEach((i, j) => { logits[i] = parts[w][j]; }));
      return logits;
    } catch {
      return null;
    }
  }

  _onMessage(msg) {
    const p = this._pending.get(msg.id);
    if (!p) return;
    if (msg.progress) { p.onProgress && p.onProgress(msg.progress); return; }
    this._pending.delete(msg.id);
    if (msg.state) { this.size = msg.state.size; this.dim = msg.state.dim; }
    if (msg.error) p.reject(new MinirankError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  }

  _failAll(err) {
    for (const p of this._pending.values()) p.reject(err);
    this._pending.clear();
  }

  _call(method, args, transfer = [], onProgress) {
    if (!this._worker) return Promise.reject(new MinirankError('Worker', 'the worker was terminated'));
    const id = this._next++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject, onProgress });
      this._worker.postMessage({ id, method, args, wantProgress: !!onProgress }, transfer);
    });
  }

  index(docs, { onProgress, ...options } = {}) { return this._call('index', [docs, options], [], onProgress); }
  retrieve(query, options) { return this._call('retrieve', [query, options]); }
  /** With `workers > 1`, the cross-encoder runs in all workers (the score cache is not used). */
  async rerank(query, candidates, options) {
    if (this._helpers.length && Array.isArray(candidates) && candidates.length > 1 && !(options && options.logits !== undefined)) {
      const logits = await this._poolLogits(query, candidates, options);
      if (logits) return this._call('rerank', [query, candidates, { ...(options || {}), logits }]);
    }
    return this._call('rerank', [query, candidates, options]);
  }
  /**
   * With `workers > 1` and no `cascade`, retrieval runs in the primary worker and the
   * cross-encoder in all of them.
   */
  async search(query, options) {
    const plain = options === undefined || options === null || (typeof options === 'object' && !Array.isArray(options));
    const { candidates = 20, topK = 5, retrieval, hybrid, filter, cascade, ...rerankOptions } = plain ? options || {} : {};
    // Anything unusual takes the single-worker path, which also throws the errors `search` names.
    if (!this._helpers.length || !plain || (cascade && cascade.length) || 'logits' in rerankOptions
      || !(Number.isInteger(topK) && Number.isInteger(candidates) && topK <= candidates)) {
      return this._call('search', [query, options]);
    }
    const stage1 = {};
    for (const [k, v] of Object.entries({ retrieval, hybrid, filter })) if (v !== undefined) stage1[k] = v;
    try {
      const pool = await this._call('retrieve', [query, { k: candidates, ...stage1 }]);
      return { candidates: pool, ...(await this.rerank(query, pool, { ...rerankOptions, topK })) };
    } catch {
      return this._call('search', [query, options]);
    }
  }
  scorePairs(query, texts, options) { return this._call('scorePairs', [query, texts, options]); }
  embed(text) { return this._call('embed', [text]); }
  remove(id) { return this._call('remove', [id]); }
  clear() { return this._call('clear', []); }
  /** Resolves to the index bytes (Uint8Array). */
  saveIndex() { return this._call('saveIndex', []); }
  loadIndex(bytes) {
    const transfer = [];
    return this._call('loadIndex', [sourceForWorker(bytes, transfer)], transfer);
  }
  cacheStats() { return this._call('cacheStats', []); }
  setCacheCapacity(entries) { return this._call('setCacheCapacity', [entries]); }
  setLimits(limits) { return this._call('setLimits', [limits]); }
  getLimits() { return this._call('getLimits', []); }
  /** Bytes of wasm memory of each worker, this one first, then the pool's others. */
  memoryBytes() { return Promise.all([this, ...this._helpers].map((w) => w._call('wasmMemoryBytes', []))); }
  setChunking(chunking) { return this._call('setChunking', [chunking]); }
  setBm25(params) { return this._call('setBm25', [params]); }
  /** Stop the worker (and the pool's other workers) and free their memory. */
  terminate() {
    for (const h of this._helpers) h.terminate();
    this._helpers = [];
    if (this._worker) this._worker.terminate();
    this._worker = null;
    this._failAll(new MinirankError('Worker', 'the worker was terminated'));
  }
}

export default MinirankWorker;
