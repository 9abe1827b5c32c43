// `npm install minirank`, import it, and `node build.mjs` (esbuild + a copy of the package's files).
import { Minirank } from 'minirank';
import { MinirankWorker } from 'minirank/worker';
import { runPage } from './shared/app.js';

runPage({ Minirank, MinirankWorker });
