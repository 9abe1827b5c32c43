// What every example app does, the README's flow on the seed corpus: load the models, index the
// documents, search each question; on the main thread (`Minirank`) and in a Web Worker
// (`MinirankWorker`). Each app imports 'minirank' itself (so that its bundler resolves the
// package) and passes the classes in.
import { documents, questions } from './seed.js';

/** Index the seed documents into `mr` and return the ids of the top 5 hits of each question. */
export async function searchSeed(mr) {
  await mr.index(documents);
  const ids = [];
  for (const question of questions) {
    const { hits } = await mr.search(question, { candidates: 20, topK: 5 });
    ids.push(hits.map((hit) => hit.id));
  }
  return ids;
}

/**
 * The page's run: shows the result in `#out` and sets `globalThis.minirankExample` to
 * `{ ok: true, main, worker, loadMs }` or `{ ok: false, name, code, message }`. `options` go to
 * both `load` calls.
 */
export async function runPage({ Minirank, MinirankWorker, options = {} }) {
  const out = document.querySelector('#out');
  let result;
  try {
    const t0 = performance.now();
    const mr = await Minirank.load(options);
    const loadMs = Math.round(performance.now() - t0);
    const main = await searchSeed(mr);
    mr.free();
    const inWorker = await MinirankWorker.load(options);
    const worker = await searchSeed(inWorker);
    inWorker.terminate();
    result = { ok: true, main, worker, loadMs };
  } catch (e) {
    result = { ok: false, name: e && e.name, code: e && e.code, message: String(e && e.message) };
  }
  out.textContent = JSON.stringify(result, null, 2);
  globalThis.minirankExample = result;
  return result;
}
