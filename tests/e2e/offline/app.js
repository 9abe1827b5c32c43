// A page of tests/e2e/offline.test.mjs: `Minirank` on the main thread, the index kept in IndexedDB,
// its files precached by sw.js. `window.offlinePage`: what the test drives.
import { loadIndexFromIndexedDB, Minirank, MODEL_MANIFEST, saveIndexToIndexedDB } from '../../../pkg/minirank.js';

const IDB = { key: 'offline-test' };

/** `'installed'` or `'redundant'` once `worker` has ended its install. */
function installed(worker) {
  return new Promise((resolve) => {
    const done = () => ['installed', 'activated', 'redundant'].includes(worker.state) && resolve(worker.state === 'redundant' ? 'redundant' : 'installed');
    worker.addEventListener('statechange', done);
    done();
  });
}

/** Waits for the registration's update to end: 'installed', 'redundant' (a failed install) or 'none'. */
async function update() {
  const registration = await navigator.serviceWorker.getRegistration('/');
  await registration.update();
  const worker = registration.installing;
  if (!worker) return registration.waiting ? 'installed' : 'none';
  return installed(worker);
}

// Chromium checks the service worker for an update on its own after each navigation (about two
// seconds after this page's load). The test waits that check out before it changes the server's
// files, so that the outcome of its own `update()` is not that of a check begun before the change.
// Resolves with the check's outcome, or 'none' if no install began within five seconds.
const navigationUpdate = navigator.serviceWorker.getRegistration('/').then(
  (registration) =>
    new Promise((resolve) => {
      if (!registration) return resolve('none');
      const timer = setTimeout(() => resolve('none'), 5000);
      const found = () => {
        clearTimeout(timer);
        installed(registration.installing).then(resolve);
      };
      if (registration.installing) found();
      else registration.addEventListener('updatefound', found, { once: true });
    }),
);

async function main() {
  await navigator.serviceWorker.register('sw.js', { type: 'module', scope: '/' });
  const mr = await Minirank.load();
  const restored = await loadIndexFromIndexedDB(mr, IDB);
  if (!restored) {
    const seed = await (await fetch('../../fixtures/seed000.jsonl')).text();
    await mr.index(
      seed
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    );
    await saveIndexToIndexedDB(mr, IDB);
  }
  window.offlinePage = {
    restored: !!restored,
    size: mr.size,
    tokenizer: MODEL_MANIFEST.biEncoder.tokenizer.sha256,
    async index(docs) {
      await mr.clear();
      await mr.index(docs);
      await saveIndexToIndexedDB(mr, IDB);
      return mr.size;
    },
    search: async (query) => (await mr.search(query, { topK: 3 })).hits.map((h) => h.id),
    update,
    navigationUpdate: () => navigationUpdate,
  };
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  document.getElementById('out').textContent = `${e.code || e.name}: ${e.message}`;
  document.body.dataset.ready = 'failed';
});
