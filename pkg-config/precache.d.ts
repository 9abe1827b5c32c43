// minirank/precache — the package's runtime files with their SHA-256 and sizes, for precaching by a
// service worker. Loads no wasm and no model: usable in a build configuration in Node.

/** One file the package runs from. */
export interface PrecacheFile {
  /** Relative to the package's folder, e.g. 'models/bi-encoder/model.nnef.tar'. */
  readonly path: string;
  /** Lower-case hex SHA-256 of the file. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly bytes: number;
  /**
   * 'core': the JS modules (lib/ and the worker scripts included), the wasm-bindgen glue and the
   * default wasm core; 'onnx': the ONNX core and its glue (fetched only for an ONNX model);
   * 'models': the default models' files; 'core-relaxed' and 'onnx-relaxed': the two cores built
   * with relaxed SIMD (fetched instead where the engine has it, see `LoadOptions.int8Kernel`).
   */
  readonly group: 'core' | 'onnx' | 'models' | 'core-relaxed' | 'onnx-relaxed';
}

/** Every file the package runs from, sorted by path. */
export const PRECACHE_FILES: readonly PrecacheFile[];

/** A precache entry as Workbox's `precacheAndRoute` and vite-plugin-pwa's `additionalManifestEntries` take it. */
export interface PrecacheEntry {
  /** The file's path under the `base` given. */
  url: string;
  /** The file's SHA-256 (hex): a new revision when the file changes. */
  revision: string;
  /** Subresource Integrity of the file, `sha256-<base64>`: a fetch of other bytes fails. */
  integrity: string;
}

export interface PrecacheOptions {
  /** Also the ONNX core and its glue (14.7 MB of wasm); default false. */
  onnx?: boolean;
  /** The default models' files; default true. */
  models?: boolean;
  /**
   * Also the cores built with relaxed SIMD (with `onnx`, the ONNX one too); default false. A page
   * whose engine has relaxed SIMD fetches one instead of the default core and caches it itself (the
   * Cache API, like the models); offline without it cached, it runs the default core, slower on CPUs
   * with AVX-VNNI.
   */
  relaxed?: boolean;
}

/**
 * The package's files as precache entries under `base`, the URL or path where the app serves the
 * package's folder (a trailing '/' is added if missing).
 */
export function precacheEntries(base: string, options?: PrecacheOptions): PrecacheEntry[];
