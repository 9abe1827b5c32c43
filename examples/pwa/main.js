// The Vite app of examples/vite, made installable and offline by vite-plugin-pwa (vite.config.js):
// its service worker precaches what `vite build` emits, the package's wasm, models and worker included.
import { Minirank } from 'minirank';
import { MinirankWorker } from 'minirank/worker';
import { runPage } from './shared/app.js';

runPage({ Minirank, MinirankWorker });
