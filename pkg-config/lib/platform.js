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

/**
 * In Node, where there is no Cache API: a folder that keeps what the Cache API keeps in a browser,
 * with the part of its interface the package uses (`match`, `put`, `delete`). `MINIRANK_CACHE_DIR`,
 * else `$XDG_CACHE_HOME/minirank/files`, else `~/.cache/minirank/files`. Each entry is a file named
 * by the SHA-256 of its key, its bytes, and beside it the response's headers (the checksum recorded
 * with the bytes); written to a temporary name and renamed, so that a reader never sees half a file.
 */
export async function nodeCacheFolder() {
  const load = (spec) => import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
  const [fs, path, os, crypto] = await Promise.all([load('node:fs/promises'), load('node:path'), load('node:os'), load('node:crypto')]);
  const env = process.env;
  const dir = env.MINIRANK_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'minirank', 'files');
  await fs.mkdir(dir, { recursive: true });
  const file = (key) => path.join(dir, crypto.createHash('sha256').update(key).digest('hex'));
  const write = async (name, data) => {
    const tmp = `${name}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, name);
  };
  return {
    dir,
    async match(key) {
      try {
        const [bytes, headers] = await Promise.all([fs.readFile(file(key)), fs.readFile(`${file(key)}.headers.json`, 'utf8')]);
        return new Response(bytes, { headers: JSON.parse(headers) });
      } catch {
        return undefined;
      }
    },
    async put(key, response) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      await write(file(key), bytes);
      await write(`${file(key)}.headers.json`, JSON.stringify({ ...Object.fromEntries(response.headers), 'x-minirank-key': key }));
    },
    async delete(key) {
      await Promise.all([fs.rm(file(key), { force: true }), fs.rm(`${file(key)}.headers.json`, { force: true })]);
      return true;
    },
  };
}
