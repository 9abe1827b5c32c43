// The worker script of minirank/core/worker: Minirank without default models.
import { Minirank, Scorer } from './core.js';
import { serveWorker } from './lib/worker-serve.js';

serveWorker({ Minirank, Scorer });
