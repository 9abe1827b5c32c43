// 'minirank/core/worker': `MinirankWorker` without default models (see core.d.ts).
export type * from './worker.js';
export { MinirankWorker, MinirankWorker as default, autoWorkers } from './worker.js';
