// No build step: the browser loads the package's ES modules through the import map in index.html;
// the wasm, the models and the worker are found beside them (`new URL('./…', import.meta.url)`).
import { Minirank } from 'minirank';
import { MinirankWorker } from 'minirank/worker';
import { runPage } from './shared/app.js';

runPage({ Minirank, MinirankWorker });
