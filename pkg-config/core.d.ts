// 'minirank/core': the API of 'minirank' without the default models (no DEFAULT_MODELS). `load`
// needs `biEncoder` and `crossEncoder` (each `{ model, tokenizer }`), or `modelBaseUrl` where the
// default models are hosted; otherwise it rejects with code 'InvalidOption'.
export type * from './minirank.js';
export {
  Minirank, Scorer, MinirankError, saveIndexToIndexedDB, loadIndexFromIndexedDB, deleteIndexFromIndexedDB,
  initWasm, int8Kernel, sha256, wasmMemoryBytes, fetchModelFile, MODEL_MANIFEST, DEFAULT_WASM, ONNX_WASM, RELAXED_WASM,
  ONNX_RELAXED_WASM,
} from './minirank.js';
export { Minirank as default } from './minirank.js';
