// minirank/worker — the same API as `Minirank`, running in a Web Worker so that the page never
// freezes while models load, documents are embedded or candidates are reranked.
//
//   import { MinirankWorker } from 'minirank/worker';
//   const mr = await MinirankWorker.load({ onProgress });
//   await mr.index(docs, { onProgress });
//   const { hits } = await mr.search(query, { candidates: 20, topK: 5 });
//
// The class is in lib/worker-client.js; this entry names its worker script.
import { MinirankWorkerClient } from './lib/worker-client.js';

export { autoWorkers } from './lib/worker-client.js';

/** `Minirank` in a Web Worker (or a pool of them), with the package's models as defaults. */
export class MinirankWorker extends MinirankWorkerClient {
  static startWorker() {
    // The literal form bundlers (Vite, webpack) recognise and emit the worker for.
    return new Worker(new URL('./worker-entry.js', import.meta.url), { type: 'module' });
  }
}

export default MinirankWorker;
