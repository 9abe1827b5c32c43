// Models by Hugging Face Hub id: a repository laid out as the Hub's ONNX exports are (Xenova/…,
// onnx-community/…): `onnx/model.onnx` and its dtype variants, `tokenizer.json`, `config.json`,
// fetched from `{hubUrl}/{id}/resolve/{revision}/…` (the Hub itself, a mirror, or your own host).
import { fail, MinirankError } from './errors.js';
import { baseHref } from './platform.js';

/** Where Hub ids are resolved unless `hubUrl` says otherwise. */
export const HUB_URL = 'https://huggingface.co';

/** The file in `onnx/` of each dtype, as transformers.js names them. */
export const DTYPES = Object.freeze({
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
});

/** The dtype of a Hub model unless `dtype` says otherwise (transformers.js's in wasm). */
export const DEFAULT_DTYPE = 'q8';

const ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;
const HUB_KEYS = ['id', 'dtype', 'revision', 'sha256', 'pooling'];

/** Whether a model option names a Hub model: a string id, or an object with `id`. */
export function isHubModel(given) {
  return typeof given === 'string' || (!!given && typeof given === 'object' && 'id' in given);
}

/** `options.dtype` for `role`: one dtype for both models, or one per role. */
function dtypeFor(role, dtype) {
  if (dtype === undefined || typeof dtype === 'string') return dtype;
  if (dtype === null || typeof dtype !== 'object' || Array.isArray(dtype)) {
    fail('InvalidOption', 'invalid option `dtype`: must be a dtype or `{ biEncoder, crossEncoder }`');
  }
  return dtype[role];
}

/** `hubUrl` as an absolute URL ending in '/'. */
function hubBase(hubUrl) {
  if (hubUrl !== undefined && typeof hubUrl !== 'string' && !(hubUrl instanceof URL)) {
    fail('InvalidOption', 'invalid option `hubUrl`: must be a URL or a string URL');
  }
  const href = String(hubUrl === undefined ? HUB_URL : hubUrl instanceof URL ? hubUrl.href : hubUrl);
  try {
    return new URL(href.endsWith('/') ? href : `${href}/`, baseHref());
  } catch {
    return fail('InvalidOption', `invalid option \`hubUrl\`: not a URL: ${href}`);
  }
}

/**
 * The model option `given` of `role` (a Hub id, or `{ id, dtype, revision, sha256 }`) as a model
 * spec of URLs, with `hub` saying where they came from. The load's `dtype`, `revision` and `hubUrl`
 * apply unless the model's own say otherwise.
 */
export function hubModel(role, given, options = {}) {
  const spec = typeof given === 'string' ? { id: given } : given;
  for (const k of Object.keys(spec)) {
    if (!HUB_KEYS.includes(k))
      fail('InvalidOption', `invalid option \`${role}\`: unknown option \`${k}\` of a Hub model (expected one of: ${HUB_KEYS.join(', ')})`);
  }
  const { id } = spec;
  if (typeof id !== 'string' || !ID.test(id) || id.includes('..')) {
    fail('InvalidOption', `invalid option \`${role}\`: ${JSON.stringify(id)} is not a Hub model id ('owner/name', e.g. 'Xenova/ms-marco-MiniLM-L-6-v2')`);
  }
  const dtype = spec.dtype ?? dtypeFor(role, options.dtype) ?? DEFAULT_DTYPE;
  if (!Object.hasOwn(DTYPES, dtype)) {
    fail('InvalidOption', `invalid option \`${role}.dtype\`: ${JSON.stringify(dtype)} is not a dtype (one of: ${Object.keys(DTYPES).join(', ')})`);
  }
  const revision = spec.revision ?? options.revision ?? 'main';
  if (typeof revision !== 'string' || revision === '' || revision.includes('..')) {
    fail('InvalidOption', `invalid option \`${role}.revision\`: must be a branch, tag or commit of the repository`);
  }
  const base = hubBase(options.hubUrl);
  const root = new URL(`${id}/resolve/${encodeURIComponent(revision)}/`, base);
  return {
    model: new URL(`onnx/${DTYPES[dtype]}`, root),
    tokenizer: new URL('tokenizer.json', root),
    config: new URL('config.json', root),
    poolingUrl: new URL('1_Pooling/config.json', root),
    pooling: spec.pooling,
    sha256: spec.sha256,
    hub: { id, dtype, revision, base },
  };
}

/**
 * The dtypes a Hub repository's `onnx/` folder has, from the Hub's file list
 * (`{hubUrl}/api/models/{id}/tree/{revision}/onnx`); null where that list cannot be read (a plain
 * mirror has no API).
 */
async function dtypesOf({ id, revision, base }, signal) {
  try {
    const r = await fetch(new URL(`api/models/${id}/tree/${encodeURIComponent(revision)}/onnx`, base), signal ? { signal } : undefined);
    if (!r.ok) return null;
    const files = new Set((await r.json()).map((f) => String(f.path).replace(/^onnx\//, '')));
    return Object.keys(DTYPES).filter((d) => files.has(DTYPES[d]));
  } catch {
    return null;
  }
}

/**
 * A failed download of a Hub model's file, said in the Hub's terms: which model, file and URL; for
 * a missing model file, the dtypes the repository has; for 401/403, that the repository is gated,
 * private or not there. Other errors pass through unchanged.
 */
export async function hubFailure(error, role, key, hub, signal) {
  if (!(error instanceof MinirankError) || error.code !== 'BadResponse' || !error.status) return error;
  const what = `${role}.${key}: ${hub.id} (revision ${hub.revision})`;
  if (error.status === 401 || error.status === 403) {
    return new MinirankError(
      'BadResponse',
      `${what}: ${error.url} answered HTTP ${error.status}: the repository is gated or private, or does not exist (download its files yourself and pass them as URLs or bytes)`,
    );
  }
  if (error.status === 404 && key === 'model') {
    const dtypes = await dtypesOf(hub, signal);
    const has =
      dtypes === null
        ? 'its file list could not be read'
        : dtypes.length
          ? `its onnx/ folder has the dtypes ${dtypes.join(', ')}`
          : 'its onnx/ folder has no model file';
    return new MinirankError('BadResponse', `${what} has no dtype '${hub.dtype}': ${error.url} answered HTTP 404; ${has}`);
  }
  if (error.status === 404) {
    return new MinirankError('BadResponse', `${what} has no ${key}.json: ${error.url} answered HTTP 404`);
  }
  return new MinirankError('BadResponse', `${what}: ${error.message}`);
}
