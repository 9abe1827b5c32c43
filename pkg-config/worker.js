// minirank/worker — the same API as `Minirank`, running in a Web Worker so that the page never
// freezes while models load, documents are embedded or candidates are reranked.
//
//   import { MinirankWorker } from 'minirank/worker';
//   const mr = await MinirankWorker.load({ onProgress });
//   await mr.index(docs, { onProgress });
//   const { hits } = await mr.search(query, { candidates: 20, topK: 5 });
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

export class MinirankWorker {
  /** Use `MinirankWorker.load()`. */
  constructor(worker) {
    this._worker = worker;
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
    const { onProgress, workerUrl, ...rest } = options || {};
    const worker = new Worker(workerUrl || new URL('./worker-entry.js', import.meta.url), { type: 'module' });
    const mw = new MinirankWorker(worker);
    const transfer = [];
    const send = { ...rest };
    for (const role of ['biEncoder', 'crossEncoder']) {
      if (send[role] && typeof send[role] === 'object') {
        send[role] = { ...send[role] };
        for (const k of ['model', 'tokenizer', 'config']) if (send[role][k] !== undefined) send[role][k] = sourceForWorker(send[role][k], transfer);
      }
    }
    try {
      await mw._call('load', [send], transfer, onProgress);
    } catch (e) {
      worker.terminate();
      throw e;
    }
    return mw;
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
  rerank(query, candidates, options) { return this._call('rerank', [query, candidates, options]); }
  search(query, options) { return this._call('search', [query, options]); }
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
  setChunking(chunking) { return this._call('setChunking', [chunking]); }
  setBm25(params) { return this._call('setBm25', [params]); }
  /** Stop the worker and free its memory. */
  terminate() {
    if (this._worker) this._worker.terminate();
    this._worker = null;
    this._failAll(new MinirankError('Worker', 'the worker was terminated'));
  }
}

export default MinirankWorker;
