// The wasm core: which of the package's builds a model needs (and this engine runs), instantiating
// each once per thread, choosing its int8 kernel, and building models in it.
import { DEFAULT_WASM, ONNX_RELAXED_WASM, ONNX_WASM, RELAXED_WASM } from '../manifest.js';
import * as nnefGlue from '../minirank_core.js';
import { fail, MinirankError } from './errors.js';
import { canDigest, isNode, nodeReadFile, toBytes } from './platform.js';

/**
 * The package's wasm cores: one crate built four times, with the same JS glue per kind. 'nnef' (the
 * default, `DEFAULT_WASM`) reads tract NNEF only: the package's models and models converted with
 * `minirank convert`. 'onnx' (`ONNX_WASM`, 1.9 MB more of gzip) also reads ONNX files, and is
 * fetched only when a model is one. Each is instantiated at most once per thread, from its own copy
 * of the glue, so both can serve one page. Each kind has a second build, `relaxed`, with a second
 * int8 kernel on WebAssembly relaxed SIMD: fetched instead where the engine validates relaxed SIMD
 * (a module built with it does not validate elsewhere), see `chooseKernel`.
 */
const CORES = {
  nnef: { file: DEFAULT_WASM, relaxed: RELAXED_WASM, stage: 'wasm', glue: async () => nnefGlue },
  onnx: { file: ONNX_WASM, relaxed: ONNX_RELAXED_WASM, stage: 'wasm (ONNX)', glue: () => import('../minirank_core_onnx.js') },
};

/** The values of the `int8Kernel` option. */
export const INT8_KERNELS = ['auto', 'simd128', 'relaxed-simd'];

/**
 * A module of one function, `i32x4.relaxed_dot_i8x16_i7x16_add_s` of three splats: it validates
 * where the engine has WebAssembly relaxed SIMD (Chromium since 114; not Node 20 without a flag,
 * nor engines that have not shipped it).
 */
const RELAXED_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 0x0a, 0x13, 1, 0x11, 0, 0x41, 0, 0xfd, 0x0f, 0x41, 0, 0xfd, 0x0f, 0x41, 0, 0xfd, 0x0f,
  0xfd, 0x93, 0x02, 0x0b,
]);

/** Whether this engine validates WebAssembly relaxed SIMD. */
export function hasRelaxedSimd() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** A relaxed kernel is kept only when it takes at most this share of the SIMD128 kernel's time. */
const RELAXED_GAIN = 0.95;
/** Products per timing (64 × 384 × 1536 each): 2–4 ms, so that a coarse clock (100 µs in a page that is not cross-origin isolated) stays under 5%. */
const TIMING_REPS = 3;

/**
 * The int8 kernel of a core just started: a relaxed core's kernel must first give the exact sums
 * here (`int8KernelSelfTest`: Node 20's experimental relaxed SIMD does not); 'auto' then times both
 * kernels on a layer of MiniLM's shape (`timeInt8Kernel`), three rounds each, interleaved, and keeps
 * the relaxed one if it takes at most `RELAXED_GAIN` of the other's time (with AVX-VNNI it is
 * faster; without, 2.4 times slower: docs/performance.md). About 30 ms, once per thread. Returns the
 * kernel's name.
 */
function chooseKernel(core, want) {
  const usable = core.int8KernelSelfTest();
  if (want === 'relaxed-simd' && !usable) {
    fail(
      'InvalidOption',
      "invalid option `int8Kernel`: 'relaxed-simd' needs WebAssembly relaxed SIMD that gives exact sums, and this engine's does not (use 'auto')",
    );
  }
  let relaxed = usable && want === 'relaxed-simd';
  if (usable && want === 'auto') {
    const best = { simd128: Infinity, 'relaxed-simd': Infinity };
    for (const name of Object.keys(best)) core.timeInt8Kernel(name, 1); // warm-up
    for (let round = 0; round < 3; round++) {
      for (const name of round % 2 ? ['relaxed-simd', 'simd128'] : ['simd128', 'relaxed-simd']) {
        const start = performance.now();
        core.timeInt8Kernel(name, TIMING_REPS);
        best[name] = Math.min(best[name], performance.now() - start);
      }
    }
    relaxed = best['relaxed-simd'] <= RELAXED_GAIN * best.simd128;
  }
  core.setInt8Kernel(relaxed ? 'relaxed-simd' : 'simd128');
  return core.int8Kernel();
}
const started = {}; // kind → Promise of the core: its glue's exports and the instance's `exports`
const cores = {}; // kind → the core, once instantiated

/**
 * Start the core of `kind` (once; a failed start is tried again by the next call) and resolve to
 * it. `wasm` may be a URL, Response, bytes or a Module; by default the package's own file, fetched
 * with `fetchFile` (fetch-cache.js's `fetchModelFile`, which is given here because checking a
 * digest may itself need this core), checked against its SHA-256 and cached.
 */
export function startCore(kind, wasm, fetchFile, { cache = true, onProgress, onWarning, int8Kernel = 'auto' } = {}) {
  if (!INT8_KERNELS.includes(int8Kernel)) {
    fail('InvalidOption', `invalid option \`int8Kernel\`: must be one of ${INT8_KERNELS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(int8Kernel)}`);
  }
  if (!started[kind]) {
    const { stage, glue } = CORES[kind];
    started[kind] = (async () => {
      const core = { ...(await glue()) };
      let source = wasm;
      const own = source === undefined || source === null;
      // the relaxed build where the engine runs it, unless it is ruled out; offline with only the
      // default core cached (precacheEntries leaves the relaxed ones out), the default one
      const files = own && int8Kernel !== 'simd128' && hasRelaxedSimd() ? [CORES[kind].relaxed, CORES[kind].file] : [CORES[kind].file];
      // No Web Crypto (a page on a plain-http origin other than localhost): the core checks its
      // own bytes once it runs, and nothing is cached.
      const selfCheck = own && !canDigest();
      let file = files[0];
      for (const [i, candidate] of files.entries()) {
        file = candidate;
        try {
          if (own) {
            const fetchOptions = selfCheck ? { stage, onProgress } : { sha256: file.sha256, cache, stage, onProgress, onWarning };
            source = (await fetchFile(file.url(), fetchOptions)).bytes;
          }
          break;
        } catch (e) {
          if (i === files.length - 1 || (e && e.code === 'Aborted')) throw e;
        }
      }
      if (isNode && source instanceof URL && source.protocol === 'file:') source = await nodeReadFile(source);
      core.exports = await core.default({ module_or_path: source });
      if (selfCheck) {
        const actual = core.sha256Hex(source);
        if (actual !== file.sha256) fail('IntegrityMismatch', `${stage} failed its integrity check: expected sha256 ${file.sha256}, got ${actual}`);
      }
      core.kernel = chooseKernel(core, int8Kernel);
      cores[kind] = core;
      return core;
    })();
    started[kind].catch(() => {
      started[kind] = null;
    });
    return started[kind];
  }
  // a core already running: a kernel asked for applies to it (it has both where it has the relaxed one)
  if (int8Kernel === 'auto') return started[kind];
  return started[kind].then((core) => {
    core.kernel = chooseKernel(core, int8Kernel);
    return core;
  });
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
 * The int8 kernel of this thread's cores ('simd128' or 'relaxed-simd'; null before a load). A load
 * with `int8Kernel: 'simd128'` or `'relaxed-simd'` sets it for every model of the thread.
 */
export function int8Kernel() {
  const kernels = Object.values(cores).map((core) => core.kernel);
  return kernels.includes('relaxed-simd') ? 'relaxed-simd' : kernels[0] || null;
}

/**
 * Sets the int8 kernel of this thread's cores ('simd128' or 'relaxed-simd', see `chooseKernel`):
 * the workers of a pool take their primary worker's choice, so that a pair scores the same in any
 * of them. Returns `int8Kernel()`.
 */
export function setInt8Kernel(name) {
  for (const core of Object.values(cores)) core.kernel = chooseKernel(core, name);
  return int8Kernel();
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
