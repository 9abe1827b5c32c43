// minirank/sources — stage one on a server: candidate sources for `search(query, { source })` and
// `retrieve(query, { source })`, over the SQL function that `minirank export --schema` creates
// (`<table>_candidates(query_text, query_embedding, k, filter)`, docs/postgres.md). The page (or
// Node) embeds the query and reranks; the server needs no model. The function answers the union of
// its dense and full-text top k; the adapters keep k of it, by reciprocal rank fusion.
//
//   import { postgrestSource } from 'minirank/sources';
//   const source = postgrestSource({ url: 'https://PROJECT.supabase.co/rest/v1', apiKey: ANON_KEY });
//   const { hits } = await mr.search('a question', { source, candidates: 50, topK: 5 });
//
// Imports no wasm and no model. Failures are MinirankErrors: 'SourceConnection' (the network, a
// server error), 'SourceAuth' (401/403, a wrong password), 'SourceSchema' (no such function or
// table, a row without text), 'SourceModel' (a query vector of another dimension than the table's).

import { abortError } from './lib/abort.js';
import { fail, MinirankError } from './lib/errors.js';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** A candidate from a row of `<table>_candidates`: its `similarity` is the cosine (`dense`). */
function candidate(row) {
  const c = { id: String(row.id), text: row.text, dense: row.similarity };
  if (row.metadata !== null && row.metadata !== undefined) c.metadata = row.metadata;
  if (row.parent !== null && row.parent !== undefined) c.parent = String(row.parent);
  return c;
}

/**
 * The union `<table>_candidates` answered, pooled as `minirank search --source` pools it: ordered by
 * reciprocal rank fusion of the cosine rank and the full-text rank (a row without a word match has
 * none), ties in the cosine's order; the first `k`, each with that fused `score`.
 */
function pooled(rows, k) {
  const RRF_K = 60;
  const byDense = rows.map((_, i) => i).sort((a, b) => rows[b].similarity - rows[a].similarity || a - b);
  const byWords = rows
    .map((_, i) => i)
    .filter((i) => rows[i].lexical > 0)
    .sort((a, b) => rows[b].lexical - rows[a].lexical || a - b);
  const fused = new Array(rows.length).fill(0);
  for (const list of [byDense, byWords]) for (const [rank, i] of list.entries()) fused[i] += 1 / (RRF_K + rank + 1);
  return [...byDense]
    .sort((a, b) => fused[b] - fused[a])
    .slice(0, k)
    .map((i) => ({ ...candidate(rows[i]), score: fused[i] }));
}

/** A server's words for a vector of the wrong dimension (pgvector: "different vector dimensions 384 and 256"). */
const DIMENSION = /dimension/i;

/**
 * Refuses `table`'s row of `minirank_tables` (`rows`: what the server answered for it) unless the
 * bi-encoder `model` that embedded the query also embedded the table: another model's cosines would
 * be wrong, not slow. `model` absent or of fingerprint 0 (not known): nothing to compare.
 */
function checkModel(table, rows, model) {
  if (rows.length === 0)
    fail(
      'SourceSchema',
      `the candidate source's table ${table} is not usable: it is not in minirank_tables (create it with \`minirank export --schema --table ${table}\`)`,
    );
  const fingerprint = Number(rows[0].fingerprint);
  const dimension = Number(rows[0].dimension);
  if (fingerprint !== model.fingerprint || dimension !== model.dim) {
    fail(
      'SourceModel',
      `table ${table} was embedded by another bi-encoder (fingerprint ${fingerprint}, dimension ${dimension}) than the loaded one (fingerprint ${model.fingerprint}, dimension ${model.dim}): export the documents again with this model, or load the model they were embedded with`,
    );
  }
}

/** Runs `check(model)` once per source, on its first request with a known model (again after a failure). */
function oncePerSource(check) {
  let done = false;
  return async (model, signal) => {
    if (done || !model || !model.fingerprint) return;
    await check(model, signal);
    done = true;
  };
}

/**
 * A source over PostgREST (Supabase's REST API): a POST of `{ query_text, query_embedding, k,
 * filter }` to `<url>/rpc/<fn>`, the request `supabase.rpc(fn, args)` sends. `url`: the REST API's
 * base (Supabase: `https://PROJECT.supabase.co/rest/v1`); `fn` (default 'minirank_candidates');
 * `apiKey`: sent as `apikey` and as the bearer token (Supabase's anon key), unless `headers` say
 * otherwise; `fetch` (default `globalThis.fetch`). On its first request the source reads the
 * table's row of `minirank_tables` (`GET <url>/minirank_tables?name=eq.<table>`; `table`: `fn`
 * without `_candidates`) and refuses a table another bi-encoder embedded ('SourceModel');
 * `checkModel: false` skips that, for a server that does not expose `minirank_tables`.
 */
export function postgrestSource({
  url,
  fn = 'minirank_candidates',
  table,
  checkModel: check = true,
  apiKey,
  headers = {},
  fetch: fetchImpl = globalThis.fetch,
} = {}) {
  if (typeof url !== 'string' && !(url instanceof URL))
    fail('InvalidOption', 'invalid option `url`: must be the PostgREST base URL (Supabase: https://PROJECT.supabase.co/rest/v1)');
  if (typeof fn !== 'string' || !IDENT.test(fn)) fail('InvalidOption', `invalid option \`fn\`: must be a SQL function name, got ${JSON.stringify(fn)}`);
  if (typeof fetchImpl !== 'function') fail('InvalidOption', 'invalid option `fetch`: must be a function (there is no global fetch here)');
  table ??= fn.replace(/_candidates$/, '');
  if (typeof table !== 'string' || !IDENT.test(table))
    fail('InvalidOption', `invalid option \`table\`: must be a SQL table name, got ${JSON.stringify(table)}`);
  const base = String(url).replace(/\/+$/, '');
  const endpoint = `${base}/rpc/${fn}`;
  const auth = apiKey === undefined ? {} : { apikey: apiKey, authorization: `Bearer ${apiKey}` };
  /** A request to PostgREST, its failures as MinirankErrors; resolves with the JSON rows. */
  const call = async (target, init, signal) => {
    let response;
    try {
      response = await fetchImpl(target, { ...init, headers: { accept: 'application/json', ...init.headers, ...auth, ...headers }, signal });
    } catch (e) {
      if (signal && signal.aborted) throw abortError(signal, 'the source');
      throw new MinirankError('SourceConnection', `could not reach ${target}: ${e && e.message ? e.message : e}`);
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      const said = body ? `: ${body.slice(0, 300)}` : '';
      const code =
        response.status === 401 || response.status === 403
          ? 'SourceAuth'
          : response.status === 404
            ? 'SourceSchema'
            : DIMENSION.test(body)
              ? 'SourceModel'
              : 'SourceConnection';
      throw new MinirankError(code, `${target} answered HTTP ${response.status}${said}`);
    }
    let rows;
    try {
      rows = await response.json();
    } catch (e) {
      throw new MinirankError('SourceSchema', `${target} did not answer JSON rows: ${e.message}`);
    }
    if (!Array.isArray(rows)) fail('SourceSchema', `${target} answered ${typeof rows}, not rows`);
    return rows;
  };
  // the table's bi-encoder, from minirank_tables (readable through PostgREST as any table)
  const model = oncePerSource(async (m, signal) => {
    const target = `${base}/minirank_tables?select=fingerprint,dimension&name=eq.${encodeURIComponent(table)}`;
    checkModel(table, await call(target, { method: 'GET', headers: {} }, signal), m);
  });
  return async ({ text, vector, k, filter, model: m, signal }) => {
    if (check) await model(m, signal);
    const body = JSON.stringify({ query_text: text, query_embedding: Array.from(vector), k, filter: filter ?? null });
    return pooled(await call(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, signal), k);
  };
}

/**
 * A source over a node-postgres (`pg`) client or pool: `SELECT * FROM <table>_candidates($1,
 * $2::vector, $3, $4)`. `table` (default 'minirank') as given to `minirank export --schema
 * --table`; its row of `minirank_tables` is read on the first request, and a table another
 * bi-encoder embedded is refused ('SourceModel'). The client is the caller's to connect and end.
 */
export function pgSource(client, { table = 'minirank' } = {}) {
  if (!client || typeof client.query !== 'function') fail('InvalidOption', 'invalid option `client`: must be a pg Client or Pool (with query())');
  if (typeof table !== 'string' || !IDENT.test(table))
    fail('InvalidOption', `invalid option \`table\`: must be a SQL table name, got ${JSON.stringify(table)}`);
  const sql = `SELECT id, text, metadata, parent, similarity, lexical FROM ${table}_candidates($1, $2::vector, $3, $4)`;
  /** `client.query` of `what`, the server's errors as MinirankErrors that name it. */
  const query = async (what, text, values) => {
    try {
      return await client.query(text, values);
    } catch (e) {
      const pgCode = e && e.code;
      const code =
        pgCode === '28P01' || pgCode === '28000'
          ? 'SourceAuth'
          : pgCode === '42883' || pgCode === '42P01'
            ? 'SourceSchema'
            : DIMENSION.test(String(e && e.message))
              ? 'SourceModel'
              : 'SourceConnection';
      throw new MinirankError(code, `${what} failed: ${e && e.message ? e.message : e}`);
    }
  };
  const model = oncePerSource(async (m) => {
    checkModel(
      table,
      (await query(`reading ${table}'s row of minirank_tables`, 'SELECT fingerprint, dimension FROM minirank_tables WHERE name = $1', [table])).rows,
      m,
    );
  });
  return async ({ text, vector, k, filter, model: m }) => {
    await model(m);
    const result = await query(`${table}_candidates`, sql, [
      text,
      `[${Array.from(vector).join(',')}]`,
      k,
      filter === undefined ? null : JSON.stringify(filter),
    ]);
    return pooled(result.rows, k);
  };
}
