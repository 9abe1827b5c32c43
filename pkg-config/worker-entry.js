// The Web Worker side of minirank/worker: one Minirank instance, calls answered in order.
import { Minirank, Scorer, wasmMemoryBytes } from './minirank.js';

let mr = null;
let scorer = null; // the extra workers of a pool hold only the cross-encoder
let queue = Promise.resolve();

const METHODS = new Set(['index', 'retrieve', 'rerank', 'search', 'prepareSearch', 'prepareRerank', 'finish', 'abandon', 'embed', 'remove', 'clear', 'saveIndex', 'loadIndex', 'cacheStats', 'setCacheCapacity', 'setLimits', 'getLimits', 'setChunking', 'setBm25', 'scorePairs']);

async function handle({ id, method, args, wantProgress }) {
  const progress = wantProgress ? (p) => self.postMessage({ id, progress: p }) : undefined;
  if (method === 'load') {
    mr = await Minirank.load({ ...(args[0] || {}), onProgress: progress });
    return undefined;
  }
  if (method === 'loadScorer') {
    scorer = await Scorer.load({ ...(args[0] || {}), onProgress: progress });
    return undefined;
  }
  if (method === 'scorePairs' && scorer) return scorer.scorePairs(...args);
  if (method === 'wasmMemoryBytes') return wasmMemoryBytes();
  if (!mr) throw Object.assign(new Error('models are not loaded'), { code: 'Worker' });
  if (!METHODS.has(method)) throw Object.assign(new Error(`unknown method ${method}`), { code: 'Worker' });
  if (method === 'index') return mr.index(args[0], { ...(args[1] || {}), onProgress: progress });
  return mr[method](...args);
}

self.onmessage = (e) => {
  const msg = e.data;
  queue = queue.then(async () => {
    try {
      const result = await handle(msg);
      const transfer = result instanceof Uint8Array || result instanceof Float32Array ? [result.buffer] : [];
      self.postMessage({ id: msg.id, result, state: mr ? { size: mr.size, dim: mr.dim } : undefined }, transfer);
    } catch (err) {
      self.postMessage({
        id: msg.id,
        error: { code: (err && err.code) || 'Internal', message: String((err && err.message) || err) },
        state: mr ? { size: mr.size, dim: mr.dim } : undefined,
      });
    }
  });
};
