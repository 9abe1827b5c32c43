// The Web Worker side of minirank/worker (and minirank/core/worker): one Minirank instance, calls
// answered in order. worker-entry.js and core-worker-entry.js start it with their own classes.
//
// The messages it answers: the methods of the table (methods.js) that `Minirank` has, the halves of
// a pooled call (`POOL_STEPS`), and the worker's own: 'hold' (a Web Lock for the worker's life),
// 'load' (with when to load the cross-encoder: `Minirank._load`), 'loadScorer' (an extra worker of a
// pool: the cross-encoder alone), 'wasmMemoryBytes', 'int8Kernel' (the kernel of this worker's
// core; given one, sets it first), and 'whenCrossEncoder', answered out of turn
// once a cross-encoder loading after 'load' (`deferCrossEncoder`) is ready.
import { abortError } from './abort.js';
import { POOL_STEPS } from './classes.js';
import { int8Kernel, setInt8Kernel, wasmMemoryBytes } from './load-core.js';
import { methodOf } from './methods.js';

let Minirank = null;
let Scorer = null;

let mr = null;
let scorer = null; // the extra workers of a pool hold only the cross-encoder
let queue = Promise.resolve();
const controllers = new Map(); // call id → AbortController, until the call is answered

/** What the page's client mirrors of this worker's engine, sent with every answer. */
const state = () => (mr ? { size: mr.size, dim: mr.dim, fingerprint: mr.fingerprint } : undefined);

async function handle({ id, method, args, wantProgress }, signal) {
  const progress = wantProgress ? (p) => self.postMessage({ id, progress: p }) : undefined;
  const warning = (e) => self.postMessage({ id, warning: { code: e.code, message: e.message } });
  if (method === 'hold') {
    // Hold a Web Lock for the whole life of this worker: the page is granted the same lock, and so
    // learns, when the worker is gone for any reason (see MinirankWorker._spawn).
    if (!(self.navigator && self.navigator.locks)) return false;
    await new Promise((granted) =>
      self.navigator.locks.request(args[0], () => {
        granted();
        return new Promise(() => {});
      }),
    );
    return true;
  }
  if (method === 'load') {
    mr = await Minirank._load({ ...(args[0] || {}), onProgress: progress, onWarning: warning, signal }, args[1] || 'now');
    return undefined;
  }
  if (method === 'loadScorer') {
    scorer = await Scorer.load({ ...(args[0] || {}), onProgress: progress, onWarning: warning, signal });
    return undefined;
  }
  if (method === 'scorePairs' && scorer) return scorer.scorePairs(...args);
  if (method === 'wasmMemoryBytes') return wasmMemoryBytes();
  // the kernel a pool's primary worker chose, given to its helpers (args[0]); answered either way
  if (method === 'int8Kernel') return args[0] ? setInt8Kernel(args[0]) : int8Kernel();
  if (!mr) throw Object.assign(new Error('models are not loaded'), { code: 'Worker' });
  if (Object.hasOwn(POOL_STEPS, method)) return POOL_STEPS[method](mr, ...args);
  const how = methodOf(method);
  if (!how || how.each) throw Object.assign(new Error(`unknown method ${method}`), { code: 'Worker' });
  // `index` reports its progress to the page and stops between slices when the page aborts it
  if (how.progress) args[how.signal] = { ...(args[how.signal] || {}), onProgress: progress, signal };
  return mr[method](...args);
}

export function serveWorker(classes) {
  ({ Minirank, Scorer } = classes);
  self.onmessage = (e) => {
    const msg = e.data;
    if (msg.method === 'whenCrossEncoder') {
      // out of turn: the calls queued meanwhile (the fused answers of a search box) go on
      const answer = (reply) => self.postMessage({ id: msg.id, ...reply });
      if (!mr) answer({ error: { code: 'Worker', message: 'models are not loaded' } });
      else
        mr.crossEncoderReady.then(
          () => answer({ result: true }),
          (e) => answer({ error: { code: e.code || 'Internal', message: String(e.message || e) } }),
        );
      return;
    }
    if (msg.cancel !== undefined) {
      // the page aborted a call: skip it if queued, stop it if it can stop
      const c = controllers.get(msg.cancel);
      if (c) c.abort(msg.reason);
      return;
    }
    const controller = new AbortController();
    controllers.set(msg.id, controller);
    queue = queue.then(async () => {
      try {
        if (controller.signal.aborted) throw abortError(controller.signal, msg.method);
        const result = await handle(msg, controller.signal);
        const transfer = result instanceof Uint8Array || result instanceof Float32Array ? [result.buffer] : [];
        self.postMessage({ id: msg.id, result, state: state() }, transfer);
      } catch (err) {
        // A trap (a Rust panic, memory exhausted) leaves the wasm instance in a state that cannot be
        // trusted: this worker reports it and stops; the page rejects its other calls ('WorkerLost').
        const trapped = typeof WebAssembly !== 'undefined' && err instanceof WebAssembly.RuntimeError;
        self.postMessage({
          id: msg.id,
          error: trapped
            ? { code: 'WorkerLost', message: `the wasm core trapped (${err.message}) and the worker stopped: load a new one` }
            : { code: (err && err.code) || 'Internal', message: String((err && err.message) || err) },
          state: state(),
        });
        if (trapped) self.close();
      } finally {
        controllers.delete(msg.id);
      }
    });
  };
}
