// No configuration: `npm install minirank`, import it, and webpack emits the wasm, the models and
// the worker into dist/ (`npx webpack`).
import { Minirank } from 'minirank';
import { MinirankWorker } from 'minirank/worker';
import { runPage } from './shared/app.js';

runPage({ Minirank, MinirankWorker });
