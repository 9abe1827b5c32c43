// minirank/precache — the package's runtime files with their SHA-256 and sizes, for an app's own
// service worker (Workbox's `precacheAndRoute`, vite-plugin-pwa's `additionalManifestEntries`) or
// the package's (`minirank/service-worker`). Importing it loads no wasm and no model: it can be
// imported by a build configuration in Node.
//
//   import { precacheEntries } from 'minirank/precache';
//   precacheAndRoute(precacheEntries('/node_modules/minirank/'));
//
// The list (precache-files.js) is written by scripts/build-wasm.sh (scripts/precache.mjs).

import { fail } from './lib/errors.js';
import { FILES } from './precache-files.js';

/** Every file the package runs from: `{ path, sha256, bytes, group }`, `path` relative to the package's folder. */
export const PRECACHE_FILES = Object.freeze(FILES.map((f) => Object.freeze({ ...f })));

/** A Subresource Integrity value (`sha256-<base64>`) from a hex SHA-256. */
function integrityOf(hex) {
  const bytes = hex.match(/../g).map((h) => Number.parseInt(h, 16));
  return `sha256-${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * The files as precache entries `{ url, revision, integrity }` (the form Workbox and vite-plugin-pwa
 * take), each `url` the file's path under `base` (where the app serves the package's folder, e.g.
 * '/node_modules/minirank/' or 'https://cdn.example.com/minirank@0.1.0/'), `revision` its SHA-256.
 * Left out by default: the ONNX core and its glue (`onnx: true` adds them; the package fetches
 * them only for an ONNX model), and the cores built with relaxed SIMD (`relaxed: true` adds them:
 * a page whose engine has relaxed SIMD fetches one instead of the default core, and caches it
 * itself like the models; offline without it cached, it runs the default one). `models: false`
 * leaves out the default models (an app that loads its own with `minirank/core`).
 */
export function precacheEntries(base, options = {}) {
  if (typeof base !== 'string') fail('InvalidOption', 'invalid option `base`: must be a string, the URL or path where the package is served');
  const unknown = Object.keys(options || {}).filter((k) => !['onnx', 'models', 'relaxed'].includes(k));
  if (unknown.length) fail('InvalidOption', `invalid option \`${unknown[0]}\`: precacheEntries takes \`onnx\`, \`relaxed\` and \`models\``);
  const { onnx = false, models = true, relaxed = false } = options || {};
  if (typeof relaxed !== 'boolean') fail('InvalidOption', 'invalid option `relaxed`: must be true or false');
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const wanted = { core: true, onnx, models, 'core-relaxed': relaxed, 'onnx-relaxed': onnx && relaxed };
  return PRECACHE_FILES.filter((f) => wanted[f.group]).map((f) => ({
    url: prefix + f.path,
    revision: f.sha256,
    integrity: integrityOf(f.sha256),
  }));
}
