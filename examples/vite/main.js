// No configuration: `npm install minirank`, import it, and Vite emits the wasm, the models and the
// worker into dist/ (`vite build`) or serves them (`vite`).
import { Minirank } from 'minirank';
import { MinirankWorker } from 'minirank/worker';
import { runPage } from './shared/app.js';

runPage({ Minirank, MinirankWorker });
