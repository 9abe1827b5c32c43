// The demo's service worker: the page, its script and style, the seed documents and the package's
// files (its JS, the default wasm core, the default models) precached, then served from the cache,
// so that after one visit the demo works with the network off. Registered by app.js with scope '/':
// the demo's worker runs /pkg/worker-entry.js, and a worker is controlled only by a registration
// whose scope holds its script's URL (scripts/serve.py sends `Service-Worker-Allowed: /` for it).
// VERSION: change it with the page's files (index.html, app.js, style.css, ...); the package's files
// carry their SHA-256, so a new build of the package is a new version by itself.

import { precacheEntries } from '../pkg/precache.js';
import { precacheAndServe } from '../pkg/service-worker.js';

const VERSION = '1';
const PAGE = ['./', './index.html', './app.js', './style.css', './demo-metadata.json', './manifest.webmanifest', './icon-192.png', './icon-512.png'];
const SEED = ['../tests/fixtures/seed000.jsonl', '../tests/fixtures/seed000_questions.json'];

precacheAndServe({ version: VERSION, files: [...PAGE, ...SEED, ...precacheEntries('../pkg/')] });
