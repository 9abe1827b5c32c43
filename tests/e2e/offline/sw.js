// The service worker of the main-thread page of tests/e2e/offline.test.mjs: the page and the
// package's files precached with minirank/service-worker, scope '/' as the demo's.
import { precacheEntries } from '../../../pkg/precache.js';
import { precacheAndServe } from '../../../pkg/service-worker.js';

precacheAndServe({ version: '1', files: ['./', './app.js', '../../fixtures/seed000.jsonl', ...precacheEntries('../../../pkg/')] });
