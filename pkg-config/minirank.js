// minirank — fully client-side two-stage semantic search (WebAssembly).
//
//   import { Minirank } from 'minirank';
//   const mr = await Minirank.load();                 // the int8 models shipped in this package
//   await mr.index(['first document', 'second document']);
//   const { hits } = await mr.search('a question', { candidates: 20, topK: 5 });
//
// This is 'minirank/core' (core.js, the whole API) with the package's models as defaults: their
// files are named here with literal `new URL('./models/…', import.meta.url)` (models.js), so
// bundlers emit them into an app's build. A page that brings its own models imports
// 'minirank/core' instead and carries none of them.
import { Minirank as CoreMinirank, Scorer as CoreScorer } from './core.js';
import { DEFAULT_MODELS } from './models.js';

export {
  DEFAULT_WASM,
  deleteIndexFromIndexedDB,
  fetchModelFile,
  initWasm,
  int8Kernel,
  loadIndexFromIndexedDB,
  MinirankError,
  MODEL_MANIFEST,
  ONNX_RELAXED_WASM,
  ONNX_WASM,
  RELAXED_WASM,
  saveIndexToIndexedDB,
  sha256,
  wasmMemoryBytes,
} from './core.js';

/** Two-stage search, with the package's int8 models as defaults. */
export class Minirank extends CoreMinirank {
  static defaultModels = DEFAULT_MODELS;
}

/** The cross-encoder alone, with the package's int8 cross-encoder as its default. */
export class Scorer extends CoreScorer {
  static defaultModels = DEFAULT_MODELS;
}

export { DEFAULT_MODELS };
export default Minirank;
