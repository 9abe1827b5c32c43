// Progressive search: `search(query, { onStage })` answers twice. First the fused answer (the
// candidates ordered by the dense and BM25 terms of the fused score, `stage: 'fused'`: one query
// embedding, no cross-encoder), then the reranked one (`stage: 'reranked'`) once the cross-encoder
// has scored the candidates, a batch at a time. A newer progressive search on the same instance
// aborts an older one that is still reranking (a search box: each keystroke's query supersedes the
// last), which then rejects with code 'Aborted'. `Minirank` and `MinirankWorker` share this; each
// gives its own steps (how to answer the fused stage, prepare the job, score its texts, finish it).
import { abortError, throwIfAborted } from './abort.js';
import { fail } from './errors.js';

const SUPERSEDED = 'superseded by a newer search';

/** An AbortController that also aborts when `signal` (the caller's, or undefined) does. */
function follow(signal) {
  const controller = new AbortController();
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller;
}

/** `promise`, or a rejection with code 'Aborted' as soon as `signal` aborts. */
export function abortable(promise, signal, what) {
  if (!signal) return promise;
  throwIfAborted(signal, what);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Let the event loop run (a newer query's keystroke, a repaint) between two batches. */
export const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Give `owner` (a `Minirank` or `MinirankWorker`) a cross-encoder that is still loading: its
 * `crossEncoderReady` is `loading`, and `owner._ceReady` turns true once it resolves. Until then a
 * call that needs the cross-encoder is prepared at once (so that it sees the index as it is when
 * the call is made, in the order of the calls) and scored once it is there.
 */
export function loadingCrossEncoder(owner, loading) {
  owner._ceReady = false;
  owner.crossEncoderReady = loading.then(() => {
    owner._ceReady = true;
  });
  owner.crossEncoderReady.catch(() => {}); // a failure is the caller's to see when it awaits it
}

/** Abandon a prepared job (or the job a promise gives) that will not be finished. */
function abandon(prepared, steps) {
  Promise.resolve(prepared)
    .then((job) => steps.abandon(job.id))
    .catch(() => {}); // not made, or already finished
}

/**
 * The second half of a search or rerank prepared when it was called (`prepared`: the job
 * `{ id, query, texts, options }`, or a promise of it): once the cross-encoder is there
 * (`steps.ready()`), the job's texts scored (`steps.score(job, signal)`) and the job finished
 * (`steps.finish(id, logits, signal)`). A job that is not finished (a failure, an abort) is
 * abandoned (`steps.abandon(id)`), so that none is left in the engine.
 */
export async function scorePrepared(prepared, steps, signal, what) {
  let finished = false;
  try {
    const job = await abortable(Promise.resolve(prepared), signal, what);
    await abortable(steps.ready(), signal, what);
    const logits = await steps.score(job, signal);
    throwIfAborted(signal, what);
    finished = true;
    return await steps.finish(job.id, logits, signal);
  } finally {
    if (!finished) abandon(prepared, steps);
  }
}

/**
 * Run a progressive search on `owner` (a `Minirank` or `MinirankWorker`), whose previous one it
 * supersedes. `steps`: `fused(query, options, signal)`, `prepare(query, options, signal)`, and
 * those of `scorePrepared`. Both halves start when the call is made, so that they see the index
 * as it is then.
 */
export async function progressiveSearch(owner, steps, query, options, onStage, signal) {
  if (typeof onStage !== 'function') fail('InvalidOption', 'invalid option `onStage`: must be a function');
  throwIfAborted(signal, 'search');
  if (owner._latestSearch) owner._latestSearch.abort(SUPERSEDED);
  const controller = follow(signal);
  owner._latestSearch = controller;
  const own = controller.signal;
  const fusedAnswer = steps.fused(query, options, own);
  const prepared = steps.prepare(query, options, own);
  try {
    try {
      onStage(await abortable(fusedAnswer, own, 'search'));
    } catch (e) {
      abandon(prepared, steps);
      throw e;
    }
    const reranked = await scorePrepared(prepared, steps, own, 'search');
    onStage(reranked);
    return reranked;
  } finally {
    if (owner._latestSearch === controller) owner._latestSearch = null;
  }
}

/**
 * The logits of a job's texts scored on this thread by `scorePairs`, a batch at a time, yielding
 * between batches so that an abort (a newer search) takes effect after at most one batch.
 */
export async function scoreInBatches(scorePairs, job, signal) {
  const size = Math.max(1, (job.options && job.options.batchSize) || 8);
  const logits = new Float32Array(job.texts.length);
  for (let i = 0; i < job.texts.length; i += size) {
    await nextTask();
    throwIfAborted(signal, 'search');
    logits.set(scorePairs(job.query, job.texts.slice(i, i + size), job.options), i);
  }
  return logits;
}
