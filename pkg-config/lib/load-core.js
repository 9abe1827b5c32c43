// The wasm core: which of the package's two builds a model needs, instantiating each once per
// thread, and building models in it.
import { DEFAULT_WASM, ONNX_WASM } from '../manifest.js';
import * as nnefGlue from '../minirank_core.js';
import { fail, MinirankError } from './errors.js';
import { canDigest, isNode, nodeReadFile, toBytes } from './platform.js';

/**
 * The package's two wasm cores: one crate built twice, with the same JS glue. 'nnef' (the default,
 * `DEFAULT_WASM`) reads tract NNEF only: the package's models and models converted with
 * `minirank convert`. 'onnx' (`ONNX_WASM`, 1.9 MB more of gzip) also reads ONNX files, and is
 * fetched only when a model is one. Each is instantiated at most once per thread, from its own copy
 * of the glue, so both can serve one page.
 */
const CORES = {
  nnef: { file: DEFAULT_WASM, stage: 'wasm', glue: async () => nnefGlue },
  onnx: { file: ONNX_WASM, stage: 'wasm (ONNX)', glue: () => import('../minirank_core_onnx.js') },
};
const started = {}; // kind → Promise of the core: its glue's exports and the instance's `exports`
const cores = {}; // kind → the core, once instantiated

/**
 * Start the core of `kind` (once; a failed start is tried again by the next call) and resolve to
 * it. `wasm` may be a URL, Response, bytes or a Module; by default the package's own file, fetched
 * with `fetchFile` (fetch-cache.js's `fetchModelFile`, which is given here because checking a
 * digest may itself need this core), checked against its SHA-256 and cached.
 */
export function startCore(kind, wasm, fetchFile, { cache = true, onProgress, onWarning } = {}) {
  if (!started[kind]) {
    const { file, stage, glue } = CORES[kind];
    started[kind] = (async () => {
      const core = { ...(await glue()) };
      let source = wasm;
      // No Web Crypto (a page on a plain-http origin other than localhost): the core checks its
      // own bytes once it runs, and nothing is cached.
      const selfCheck = (source === undefined || source === null) && !canDigest();
      if (selfCheck) {
        source = (await fetchFile(file.url(), { stage, onProgress })).bytes;
      } else if (source === undefined || source === null) {
        source = (await fetchFile(file.url(), { sha256: file.sha256, cache, stage, onProgress, onWarning })).bytes;
      } else if (isNode && source instanceof URL && source.protocol === 'file:') {
        source = await nodeReadFile(source);
      }
      core.exports = await core.default({ module_or_path: source });
      if (selfCheck) {
        const actual = core.sha256Hex(source);
        if (actual !== file.sha256) fail('IntegrityMismatch', `${stage} failed its integrity check: expected sha256 ${file.sha256}, got ${actual}`);
      }
      cores[kind] = core;
      return core;
    })();
    started[kind].catch(() => {
      started[kind] = null;
    });
  }
  return started[kind];
}

/** Whether these bytes are a tar archive (tract NNEF, `ustar` magic at 257), not an ONNX protobuf. */
export function isNnefBytes(b) {
  return b.length > 262 && b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72;
}

/** A model's format before it is fetched: from its bytes or its file name; null when unknown. */
export function formatOf(src) {
  if (src === undefined) return 'nnef'; // the package's models
  const bytes = toBytes(src);
  if (bytes) return isNnefBytes(bytes) ? 'nnef' : 'onnx';
  const path = String(src instanceof URL ? src.pathname : src)
    .split(/[?#]/)[0]
    .toLowerCase();
  return path.endsWith('.onnx') ? 'onnx' : path.endsWith('.tar') ? 'nnef' : null;
}

/**
 * Build models in the wasm core, turning a trap into a MinirankError. A load that needs more memory
 * than the page can give makes the core's allocator abort (a trap, not an error): when the memory
 * cannot grow by 16 MB more afterwards, that is what happened ('OutOfMemory'); any other trap is
 * 'Internal'.
 */
export function buildModels(core, build) {
  try {
    return build();
  } catch (e) {
    if (!(typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError)) throw e;
    let full = false;
    try {
      core.exports.memory.grow(256);
    } catch {
      full = true;
    }
    if (full) {
      throw new MinirankError(
        'OutOfMemory',
        `the models need more memory than this page can give the wasm core (${wasmMemoryBytes()} bytes in use): close other tabs, load in a MinirankWorker, or use smaller models (${e.message})`,
      );
    }
    throw new MinirankError('Internal', `the wasm core trapped while loading the models (${e.message})`);
  }
}

/**
 * Bytes of the wasm memory in this thread (all `Minirank` and `Scorer` instances here share
 * it, or its two memories when ONNX and NNEF models were both loaded; 0 before the first load).
 * It grows as models load and indexes fill, and never shrinks.
 */
export function wasmMemoryBytes() {
  return Object.values(cores).reduce((sum, core) => {
    try {
      return sum + core.wasmMemoryBytes();
    } catch {
      return sum;
    }
  }, 0);
}
