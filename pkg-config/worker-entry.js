// The worker script of minirank/worker: the package's Minirank, with its default models.

import { serveWorker } from './lib/worker-serve.js';
import { Minirank, Scorer } from './minirank.js';

serveWorker({ Minirank, Scorer });
