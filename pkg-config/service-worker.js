// minirank/service-worker — a small precaching service worker for apps that have none of their
// own. Imported by the app's module service worker:
//
//   // sw.js, registered with navigator.serviceWorker.register('/sw.js', { type: 'module' })
//   import { precacheEntries } from '/node_modules/minirank/precache.js';
//   import { precacheAndServe } from '/node_modules/minirank/service-worker.js';
//   precacheAndServe({ version: '1', files: ['/', '/app.js', ...precacheEntries('/node_modules/minirank/')] });
//
// - install: every file is fetched into a new cache named after the version and the files'
//   revisions; if one fetch fails (an HTTP error, a network error, a wrong integrity), the install
//   fails, that cache is deleted and the version in use stays in use, whole;
// - fetch: a listed file is answered from the cache of this version (cache first), anything else
//   goes to the network;
// - activate (once no page uses the older version): the caches of older versions are deleted.

const PREFIX = 'minirank-sw';

async function hex(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Precache `files` (URLs, or `{ url, revision?, integrity? }` as `precacheEntries` gives; relative
 * URLs are resolved against the service worker's script) and serve them cache first. `version`:
 * change it when a file listed without a revision changes (the app's own pages and scripts).
 * Returns the cache's name (a promise).
 */
export function precacheAndServe({ files, version = '' }) {
  const sw = globalThis;
  const entries = files.map((f) => (typeof f === 'string' ? { url: f } : f)).map((f) => ({ ...f, url: new URL(f.url, sw.location.href).href }));
  const urls = new Set(entries.map((e) => e.url));
  // one set of caches per registration: two apps of one origin do not delete each other's
  const prefix = `${PREFIX}:${sw.registration.scope}:`;
  const cacheName = hex(JSON.stringify([version, entries.map((e) => [e.url, e.revision || null])])).then((h) => prefix + h.slice(0, 16));

  sw.addEventListener('install', (event) => {
    event.waitUntil(
      (async () => {
        const name = await cacheName;
        await caches.delete(name); // what an earlier, failed attempt may have left
        const cache = await caches.open(name);
        // `addAll` stores all or nothing; `no-cache` revalidates with the server, so no stale copy
        // of the browser's HTTP cache is taken
        const requests = entries.map((e) => new Request(e.url, { cache: 'no-cache', integrity: e.integrity || '' }));
        try {
          await cache.addAll(requests);
        } catch (e) {
          await caches.delete(name);
          throw e;
        }
      })(),
    );
  });

  sw.addEventListener('activate', (event) => {
    event.waitUntil(
      (async () => {
        const name = await cacheName;
        for (const key of await caches.keys()) if (key.startsWith(prefix) && key !== name) await caches.delete(key);
        await sw.clients.claim();
      })(),
    );
  });

  sw.addEventListener('fetch', (event) => {
    const { request } = event;
    const url = request.mode === 'navigate' ? request.url.replace(/[?#].*$/, '') : request.url;
    if (request.method !== 'GET' || !urls.has(url)) return;
    event.respondWith(
      (async () => {
        const hit = await (await caches.open(await cacheName)).match(url);
        return hit || fetch(request);
      })(),
    );
  });
  return cacheName;
}
