// The methods that `Minirank` (classes.js) and `MinirankWorker` (worker-client.js) share, each
// listed once with how a call of it travels. Both classes define these methods from this table, and
// the worker (worker-serve.js) answers exactly these names; their TypeScript signatures are
// declared once too (`MinirankMethods` in minirank.d.ts, made promises for the worker in worker.d.ts).
//
// A method with no flag is a plain call: `Minirank` calls its engine's method of the same name
// (src/wasm.rs) with the same arguments; `MinirankWorker` posts the arguments to the worker, which
// makes that call, and posts the result back. The flags:
//
//   signal    the index of the options argument, whose `signal` (an AbortSignal) is the page's: an
//             aborted signal rejects the call before it starts, with code 'Aborted'; in a worker,
//             an abort skips the call while it is queued and rejects it at once
//   progress  `index`: the options' `onProgress` and `signal` also work in the worker (progress is
//             posted back; an abort stops the call between two slices), and after an abort the
//             page waits for the worker's answer, which says whether the documents were committed
//   transfer  the index of an argument of bytes, which is copied and moved to the worker (a
//             transferable) instead of cloned
//   pooled    with `workers > 1`: the name of the method's first half; the primary worker prepares
//             the call, every worker of the pool scores a share of its cross-encoder pairs, and the
//             primary finishes it (`POOL_STEPS` in classes.js)
//   stages    `search`: with an `onStage` option the call is progressive (progressive.js): the fused
//             answer first, then the reranked one; a newer progressive search aborts an older one
//   needsCE   the call waits for a cross-encoder that is still loading (`deferCrossEncoder`)
//   source    with a `source` option, stage one comes from that function (remote.js): the query is
//             embedded here, the source's candidates reranked here
//   own       `Minirank` writes this method itself, since it does more than call the engine
//   each      `MinirankWorker` only: the worker method called on every worker of the pool; resolves
//             to their answers, the primary worker's first
export const METHODS = Object.freeze({
  index: { signal: 1, progress: true, own: true },
  indexVectors: { transfer: 1, own: true },
  retrieve: { signal: 1, source: true },
  rerank: { signal: 2, pooled: 'prepareRerank', needsCE: true },
  search: { signal: 1, pooled: 'prepareSearch', needsCE: true, stages: true, source: true },
  searchFused: { signal: 1 },
  scorePairs: { needsCE: true },
  embed: {},
  remove: {},
  has: {},
  clear: {},
  saveIndex: {},
  loadIndex: { transfer: 0 },
  cacheStats: {},
  setCacheCapacity: {},
  setLimits: {},
  getLimits: {},
  setChunking: {},
  setBm25: {},
  memoryBytes: { each: 'wasmMemoryBytes' },
});

/** The table's entry for `name`, or undefined (an own property only: no 'constructor', 'toString'...). */
export const methodOf = (name) => (Object.hasOwn(METHODS, name) ? METHODS[name] : undefined);

/** Give `cls.prototype` a method per entry of the table that `make(name, how)` returns one for. */
export function defineMethods(cls, make) {
  for (const [name, how] of Object.entries(METHODS)) {
    const method = make(name, how);
    if (!method) continue;
    Object.defineProperty(method, 'name', { value: name });
    Object.defineProperty(cls.prototype, name, { value: method, writable: true, configurable: true });
  }
}
