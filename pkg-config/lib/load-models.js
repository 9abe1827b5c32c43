// What `Minirank.load` and `Scorer.load` share: check the options, start the wasm core, and fetch
// the files of each model (the user's, or the package's defaults) at the same time.
import { MODEL_MANIFEST } from '../manifest.js';
import { throwIfAborted } from './abort.js';
import { fail, warner } from './errors.js';
import { fetchModelFile } from './fetch-cache.js';
import { hubFailure, hubModel, isHubModel } from './hub.js';
import { formatOf, isNnefBytes, startCore } from './load-core.js';
import { baseUrl, checkKeys, FILE_KEYS, isPoolingMode, userDigests } from './options.js';

const MODEL_KEYS = ['model', 'tokenizer', 'config', 'sha256', 'pooling'];

/**
 * A bi-encoder's `pooling` as the bytes of a sentence-transformers `1_Pooling/config.json`: 'mean'
 * and 'cls' written as one, a URL fetched, bytes as they are (the core reads them).
 */
async function poolingBytes(role, pooling, opts) {
  if (pooling === undefined || pooling === null) return undefined;
  if (role !== 'biEncoder') fail('InvalidOption', `invalid option \`${role}.pooling\`: only a bi-encoder pools token states`);
  if (isPoolingMode(pooling)) {
    const mode = pooling === 'cls' ? 'pooling_mode_cls_token' : 'pooling_mode_mean_tokens';
    return new TextEncoder().encode(JSON.stringify({ [mode]: true }));
  }
  return (await fetchFile(role, 'pooling', pooling, undefined, opts)).bytes;
}

/**
 * Instantiate the wasm core once (idempotent). `wasm` may be a URL, Response, bytes or a Module;
 * by default the package's own `.wasm` (the NNEF core), checked against its SHA-256 and kept in the
 * Cache API with the models (`cache: false` skips the cache), so a reload downloads nothing.
 * `Minirank.load` calls it; a load whose model is an ONNX file starts the ONNX core instead.
 */
export function initWasm(wasm, options) {
  return startCore('nnef', wasm, fetchModelFile, options).then(() => {});
}

/**
 * Where a default model file comes from: the same files under `modelBaseUrl` (a CDN or your own
 * host: `<base>/bi-encoder/model.nnef.tar`, ...), or the package's own files (`minirank` only: bundlers
 * emit them). Either way it is checked against the package's SHA-256.
 */
function defaultSource(role, file, base, shipped) {
  if (base !== undefined) return new URL(file.path.replace(/^\.\/models\//, ''), base);
  if (shipped) return shipped.url();
  return fail(
    'InvalidOption',
    `invalid option \`${role}.model\`: required, because 'minirank/core' carries no default models (import 'minirank' for them, or set \`modelBaseUrl\` to where they are hosted)`,
  );
}

/** Fetch `src` as file `key` of model `role`, with the load's cache, progress, warnings and signal. */
function fetchFile(role, key, src, sha256, opts, byUrl = false, optional = false) {
  const { cache, onProgress, onWarning, signal } = opts;
  return fetchModelFile(src, { sha256, byUrl, optional, cache, stage: `${role}.${key}`, onProgress, onWarning, signal });
}

/**
 * The files of one model: the user's, or the defaults (`MODEL_MANIFEST[role]`, fetched as
 * `defaultSource` says). Every source is settled before any fetch starts; the files are then fetched
 * (or read from the Cache API) and checked at the same time.
 */
async function loadModel(role, given, opts) {
  if (isHubModel(given)) return loadHubModel(role, given, opts);
  const defaults = MODEL_MANIFEST[role];
  const shipped = opts.shipped && opts.shipped[role];
  checkKeys(given, MODEL_KEYS, role);
  const spec = given || {};
  const own = spec.model !== undefined; // a model of the user's: no default file is mixed in
  const digests = userDigests(role, spec.sha256);
  const sources = [];
  for (const key of FILE_KEYS) {
    let src = spec[key];
    let sha = digests[key];
    if (src === undefined && !own && defaults[key]) {
      src = defaultSource(role, defaults[key], opts.base, shipped && shipped[key]);
      sha = defaults[key].sha256;
    }
    if (src === undefined) {
      if (key !== 'config') fail('InvalidOption', `invalid option \`${role}.${key}\`: required when \`${role}.model\` is given`);
      continue;
    }
    sources.push([key, src, sha]);
  }
  throwIfAborted(opts.signal, 'load');
  const [pooling, ...files] = await Promise.all([
    poolingBytes(role, spec.pooling, opts),
    ...sources.map(([key, src, sha]) => fetchFile(role, key, src, sha, opts)),
  ]);
  const out = Object.fromEntries(sources.map(([key], i) => [key, files[i].bytes]));
  return pooling === undefined ? out : { ...out, pooling };
}

/**
 * The files of a Hub model (`hubModel`): fetched at the same time, cached under their URLs (or
 * their digests, where `sha256` gives them); a config.json that the repository lacks is left out,
 * and so is a bi-encoder's `1_Pooling/config.json` (sentence-transformers' pooling: CLS for bge
 * and gte, mean otherwise), unless `pooling` says.
 * A failed download says which model, file and URL, and for a missing dtype which ones exist.
 */
async function loadHubModel(role, given, opts) {
  const spec = hubModel(role, given, opts.hub);
  const digests = userDigests(role, spec.sha256);
  throwIfAborted(opts.signal, 'load');
  // config.json and 1_Pooling/config.json are optional: a 404 leaves them out
  const fetchOne = async (key, src) => {
    const optional = key === 'config' || key === 'pooling';
    try {
      return (await fetchFile(role, key, src, digests[key], opts, true, optional)).bytes;
    } catch (e) {
      if (optional && e.status === 404) return undefined;
      throw await hubFailure(e, role, key, spec.hub, opts.signal);
    }
  };
  const poolingFile =
    spec.pooling !== undefined ? poolingBytes(role, spec.pooling, opts) : role === 'biEncoder' ? fetchOne('pooling', spec.poolingUrl) : undefined;
  const [model, tokenizer, config, pooling] = await Promise.all([...FILE_KEYS.map((key) => fetchOne(key, spec[key])), poolingFile]);
  const files = config === undefined ? { model, tokenizer } : { model, tokenizer, config };
  return pooling === undefined ? files : { ...files, pooling };
}

/**
 * Check the options (`keys`: the names allowed), start the wasm core, and fetch the files of each
 * model in `roles` (the user's, or the defaults: `shipped`, the package's files, or none). Resolves
 * to `files` (one `{ model, tokenizer, config? }` per role) and the `core` that reads them, once it
 * is ready. `coreRoles` (default: `roles`) are the models the core must read: all of them, when
 * one engine will hold models fetched by two calls.
 *
 * The core: the user's `wasm`; else the ONNX core when a model is an ONNX file, the NNEF core
 * otherwise. A model's format is known from its name or bytes (the package's models are NNEF), so
 * the core loads with the files; a URL that does not say is read first.
 */
export async function loadFiles(options, keys, roles, shipped, coreRoles = roles) {
  checkKeys(options, keys, 'options');
  const { onProgress, cache = true, signal, wasm, int8Kernel } = options || {};
  throwIfAborted(signal, 'load');
  const base = baseUrl(options && options.modelBaseUrl);
  const onWarning = warner(options && options.onWarning);
  const coreOptions = { cache, onProgress, onWarning, int8Kernel };
  const given = (role) => options && options[role];
  const formats = coreRoles.map((role) => (isHubModel(given(role)) ? 'onnx' : formatOf(given(role) ? given(role).model : undefined)));
  const early = wasm !== undefined && wasm !== null ? 'nnef' : formats.includes('onnx') ? 'onnx' : formats.includes(null) ? null : 'nnef';
  // both models' files at once, and with the wasm core: their reads and digests overlap
  const coreReady = early && startCore(early, wasm, fetchModelFile, coreOptions);
  if (coreReady) coreReady.catch(() => {}); // awaited below, after the files
  const hub = { dtype: options && options.dtype, revision: options && options.revision, hubUrl: options && options.hubUrl };
  const hubKey = Object.keys(hub).find((k) => hub[k] !== undefined);
  if (hubKey && !coreRoles.some((role) => isHubModel(given(role)))) {
    fail(
      'InvalidOption',
      `invalid option \`${hubKey}\`: it applies to models given by Hub id, and no model is (e.g. \`crossEncoder: 'Xenova/ms-marco-MiniLM-L-6-v2'\`)`,
    );
  }
  const files = await Promise.all(roles.map((role) => loadModel(role, given(role), { cache, onProgress, onWarning, base, signal, shipped, hub })));
  const core = await (coreReady || startCore(files.some((f) => !isNnefBytes(f.model)) ? 'onnx' : 'nnef', wasm, fetchModelFile, coreOptions));
  throwIfAborted(signal, 'load');
  return { files, core };
}
