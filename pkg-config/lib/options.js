// Checks of the option objects that the package reads itself (the core checks its own: search,
// rerank, ...): unknown names are refused, each bad value named by its path, with code 'InvalidOption'.
import { fail } from './errors.js';
import { baseHref } from './platform.js';

/** The files of a model, as option names (`biEncoder.model`, ...) and as `sha256` keys. */
export const FILE_KEYS = ['model', 'tokenizer', 'config'];
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Whether a bi-encoder's `pooling` is a mode ('mean', 'cls') rather than a file (URL or bytes). */
export function isPoolingMode(pooling) {
  return pooling === 'mean' || pooling === 'cls';
}

/** `obj` (absent, or an object) has no key outside `allowed`; `what` names it in the error. */
export function checkKeys(obj, allowed, what) {
  if (obj === undefined || obj === null) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) fail('InvalidOption', `invalid option \`${what}\`: must be an object`);
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail('InvalidOption', `invalid option \`${what}\`: unknown option \`${k}\` (expected one of: ${allowed.join(', ')})`);
  }
}

/** `sha256` of a user's model: one digest (of `model`) or `{ model, tokenizer, config }`. */
export function userDigests(role, sha) {
  if (sha === undefined) return {};
  const one = (v, name) => {
    if (typeof v !== 'string' || !HEX64.test(v)) fail('InvalidOption', `invalid option \`${name}\`: must be 64 hex digits (a SHA-256)`);
    return v.toLowerCase();
  };
  if (typeof sha === 'string') return { model: one(sha, `${role}.sha256`) };
  checkKeys(sha, FILE_KEYS, `${role}.sha256`);
  const out = {};
  for (const k of FILE_KEYS) if (sha[k] !== undefined) out[k] = one(sha[k], `${role}.sha256.${k}`);
  return out;
}

/** `modelBaseUrl` as an absolute URL ending in '/', or undefined. */
export function baseUrl(base) {
  if (base === undefined) return undefined;
  if (typeof base !== 'string' && !(base instanceof URL)) fail('InvalidOption', 'invalid option `modelBaseUrl`: must be a URL or a string URL');
  const href = String(base instanceof URL ? base.href : base);
  try {
    return new URL(href.endsWith('/') ? href : `${href}/`, baseHref());
  } catch {
    return fail('InvalidOption', `invalid option \`modelBaseUrl\`: not a URL: ${href}`);
  }
}
