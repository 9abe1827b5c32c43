// The worker script of minirank/worker: the package's Minirank, with its default models.
import { Minirank, Scorer } from './minirank.js';
import { serveWorker } from './worker-serve.js';

serveWorker({ Minirank, Scorer });
