// Stage one from elsewhere: `search(query, { source })` and `retrieve(query, { source })`, where
// `source` is an async function `({ text, vector, k, filter, signal }) → candidates` (a database,
// a search service: minirank/sources has adapters for PostgREST / Supabase and for node-postgres).
// The query is embedded here with the bi-encoder that embedded the corpus; the candidates come back
// with their `dense` score, so they are not embedded again; BM25 for the fused score is computed
// over the candidate list; then the cross-encoder reranks them here. `Minirank` and
// `MinirankWorker` share this (`owner.embed`, `owner.rerank`).
import { abortError, throwIfAborted } from './abort.js';
import { fail, MinirankError } from './errors.js';

/** Options that choose stage one in the engine: a source replaces it. */
const STAGE_ONE = ['retrieval', 'hybrid', 'cascade'];
/** The options of a search that stage two (`rerank`) takes. */
const STAGE_TWO = ['topK', 'minScore', 'fusion', 'signals', 'parents', 'maxLength', 'batchSize'];

/** The candidates a source gave, checked: an array of `{ id, text, ... }` (code 'SourceSchema' otherwise). */
function checked(rows) {
  if (!Array.isArray(rows)) fail('SourceSchema', `the source answered ${rows === null ? 'null' : typeof rows}, not an array of candidates`);
  return rows.map((row, i) => {
    if (!row || typeof row !== 'object' || typeof row.text !== 'string') {
      fail('SourceSchema', `the source's candidate ${i} has no text (each needs \`text\`, and an \`id\`)`);
    }
    return row;
  });
}

/**
 * Stage one by `options.source` for `owner`'s `search` (`name` 'search') or `retrieve`. The pool
 * holds the first `candidates` (search) or `k` (retrieve) of the source's answer (its best first),
 * default 20; `exclude` drops ids here; `filter` is the source's to apply.
 */
export async function fromSource(owner, name, query, options, signal) {
  const { source, filter, exclude, ...rest } = options;
  if (typeof source !== 'function') fail('InvalidOption', 'invalid option `source`: must be a function ({ text, vector, k, filter, signal }) → candidates');
  if (typeof query !== 'string') fail('InvalidOption', 'invalid option `query`: must be a string with a source (it is embedded here)');
  const size = name === 'search' ? 'candidates' : 'k';
  for (const key of Object.keys(rest)) {
    if (STAGE_ONE.includes(key)) fail('InvalidOption', `invalid option \`${key}\`: stage one is the source's, not the engine's`);
    if (key === 'onStage') fail('InvalidOption', 'invalid option `onStage`: a search with a source is not progressive');
    if (key !== size && (name === 'retrieve' || !STAGE_TWO.includes(key)))
      fail('InvalidOption', `invalid option \`${key}\`: not an option of ${name} with a source`);
  }
  const k = rest[size] ?? 20;
  if (!Number.isInteger(k) || k < 1) fail('InvalidOption', `invalid option \`${size}\`: must be a whole number of at least 1`);
  const vector = await owner.embed(query);
  throwIfAborted(signal, name);
  let rows;
  try {
    rows = await source({ text: query, vector, k, filter, model: { dim: owner.dim, fingerprint: owner.fingerprint }, signal });
  } catch (e) {
    if (signal && signal.aborted) throw abortError(signal, name);
    if (e instanceof MinirankError || (e && e.name === 'MinirankError')) throw e;
    throw new MinirankError('SourceConnection', `the source failed: ${e && e.message ? e.message : e}`);
  }
  throwIfAborted(signal, name);
  const skip = new Set((exclude || []).map(String));
  const pool = checked(rows)
    .filter((c) => !skip.has(String(c.id)))
    .slice(0, k);
  if (name === 'retrieve') return pool;
  const stageTwo = { topK: 5, ...Object.fromEntries(STAGE_TWO.filter((key) => rest[key] !== undefined).map((key) => [key, rest[key]])) };
  const reranked = await owner.rerank(query, pool, signal ? { ...stageTwo, signal } : stageTwo);
  return { stage: 'reranked', candidates: pool, ...reranked };
}
