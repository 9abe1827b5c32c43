// minirank/service-worker — a small precaching service worker, imported by an app's module service
// worker (`navigator.serviceWorker.register(url, { type: 'module' })`).

/** A file to precache: its URL (relative to the service worker's script, or absolute). */
export type PrecacheFileEntry = string | { url: string; revision?: string | null; integrity?: string };

export interface PrecacheAndServeOptions {
  /** The files to precache and serve: the app's own, and `precacheEntries(base)` of 'minirank/precache'. */
  files: PrecacheFileEntry[];
  /** Part of the cache's name: change it when a file listed without a revision changes. */
  version?: string;
}

/**
 * Installs the service worker's `install`, `activate` and `fetch` listeners: `files` are fetched
 * into a new cache at install (all or nothing: if one fails, the install fails and the version in
 * use stays), answered from it cache first, and older versions' caches are deleted on activate.
 * Resolves to the name of this version's cache.
 */
export function precacheAndServe(options: PrecacheAndServeOptions): Promise<string>;
