// minirank/core/worker — `MinirankWorker` without default models (see core.js): give `biEncoder`
// and `crossEncoder`, or `modelBaseUrl`.
import { MinirankWorkerClient } from './lib/worker-client.js';

export { autoWorkers } from './lib/worker-client.js';

/** `Minirank` from 'minirank/core' in a Web Worker (or a pool of them). */
export class MinirankWorker extends MinirankWorkerClient {
  static startWorker() {
    return new Worker(new URL('./core-worker-entry.js', import.meta.url), { type: 'module' });
  }
}

export default MinirankWorker;
