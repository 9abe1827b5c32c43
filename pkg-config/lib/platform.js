// What differs between a page, a worker and Node: file URLs, digests, the base of relative URLs;
// and bytes in the forms JavaScript has them.

export const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** The bytes of a `file:` URL, in Node (hidden from bundlers, which must not pull `node:fs` in). */
export async function nodeReadFile(url) {
  const spec = 'node:fs/promises';
  const fs = await import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
  return new Uint8Array(await fs.readFile(url));
}

/** Whether SHA-256 can be computed without the wasm core: Web Crypto, or `node:crypto`. */
export const canDigest = () => !!(globalThis.crypto && globalThis.crypto.subtle) || isNode;

/**
 * What a relative URL is resolved against: the page's (or the worker's) address; in Node, the
 * package's folder (this file is in its lib/).
 */
export const baseHref = () => (globalThis.location ? globalThis.location.href : import.meta.url.replace(/\/lib\/[^/]*$/, '/'));

/** `x` as a Uint8Array when it is bytes (a Uint8Array, an ArrayBuffer or another view); else null. */
export function toBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}
