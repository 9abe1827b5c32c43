// minirank/core — the whole API without the default models: a page that brings its own models (or
// fetches the default ones from its own host with `modelBaseUrl`) does not carry 45 MB of models in
// its build. `minirank` (minirank.js) is this, with the models shipped in the package as defaults.
//
//   import { Minirank } from 'minirank/core';
//   const mr = await Minirank.load({ modelBaseUrl: 'https://cdn.example.com/minirank/' });
//
// Every method that can fail rejects (or throws) an Error whose `name` is 'MinirankError' and
// whose `code` says what went wrong ('InvalidOption', 'EmptyIndex', 'IntegrityMismatch', ...).
//
// This file names what the package exports, exactly what core.d.ts declares; the code is in lib/,
// one module per job (CONTRIBUTING.md, "The layout of pkg-config/").

export { Minirank, Minirank as default, Scorer } from './lib/classes.js';
export { MinirankError } from './lib/errors.js';
export { fetchModelFile, sha256 } from './lib/fetch-cache.js';
export { int8Kernel, wasmMemoryBytes } from './lib/load-core.js';
export { initWasm } from './lib/load-models.js';
export { deleteIndexFromIndexedDB, loadIndexFromIndexedDB, saveIndexToIndexedDB } from './lib/storage.js';
export { DEFAULT_WASM, MODEL_MANIFEST, ONNX_RELAXED_WASM, ONNX_WASM, RELAXED_WASM } from './manifest.js';
