// minirank/sources — stage one on a server: candidate sources for `search(query, { source })` and
// `retrieve(query, { source })`, over the SQL function that `minirank export --schema` creates
// (`<table>_candidates(query_text, query_embedding, k, filter)`, docs/postgres.md). The page (or
// Node) embeds the query and reranks; the server needs no model.
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
  const c = { id: String(row.id), text: row.text, dense: row.similarity, score: row.similarity };
  if (row.metadata !== null && row.metadata !== undefined) c.metadata = row.metadata;
  if (row.parent !== null && row.parent !== undefined) c.parent = String(row.parent);
  return c;
}

/** A server's words for a vector of the wrong dimension (pgvector: "different vector dimensions 384 and 256"). */
const DIMENSION = /dimension/i;

/**
 * A source over PostgREST (Supabase's REST API): a POST of `{ query_text, query_embedding, k,
 * filter }` to `<url>/rpc/<fn>`, the request `supabase.rpc(fn, args)` sends. `url`: the REST API's
 * base (Supabase: `https://PROJECT.supabase.co/rest/v1`); `fn` (default 'minirank_candidates');
 * `apiKey`: sent as `apikey` and as the bearer token (Supabase's anon key), unless `headers` say
 * otherwise; `fetch` (default `globalThis.fetch`).
 */
export function postgrestSource({ url, fn = 'minirank_candidates', apiKey, headers = {}, fetch: fetchImpl = globalThis.fetch } = {}) {
  if (typeof url !== 'string' && !(url instanceof URL))
    fail('InvalidOption', 'invalid option `url`: must be the PostgREST base URL (Supabase: https://PROJECT.supabase.co/rest/v1)');
  if (typeof fn !== 'string' || !IDENT.test(fn)) fail('InvalidOption', `invalid option \`fn\`: must be a SQL function name, got ${JSON.stringify(fn)}`);
  if (typeof fetchImpl !== 'function') fail('InvalidOption', 'invalid option `fetch`: must be a function (there is no global fetch here)');
  const endpoint = `${String(url).replace(/\/+$/, '')}/rpc/${fn}`;
  const auth = apiKey === undefined ? {} : { apikey: apiKey, authorization: `Bearer ${apiKey}` };
  return async ({ text, vector, k, filter, signal }) => {
    let response;
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...auth, ...headers },
        body: JSON.stringify({ query_text: text, query_embedding: Array.from(vector), k, filter: filter ?? null }),
        signal,
      });
    } catch (e) {
      if (signal && signal.aborted) throw abortError(signal, 'the source');
      throw new MinirankError('SourceConnection', `could not reach ${endpoint}: ${e && e.message ? e.message : e}`);
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
      throw new MinirankError(code, `${endpoint} answered HTTP ${response.status}${said}`);
    }
    let rows;
    try {
      rows = await response.json();
    } catch (e) {
      throw new MinirankError('SourceSchema', `${endpoint} did not answer JSON rows: ${e.message}`);
    }
    if (!Array.isArray(rows)) fail('SourceSchema', `${endpoint} answered ${typeof rows}, not rows`);
    return rows.map(candidate);
  };
}

/**
 * A source over a node-postgres (`pg`) client or pool: `SELECT * FROM <table>_candidates($1,
 * $2::vector, $3, $4)`. `table` (default 'minirank') as given to `minirank export --schema
 * --table`. The client is the caller's to connect and end.
 */
export function pgSource(client, { table = 'minirank' } = {}) {
  if (!client || typeof client.query !== 'function') fail('InvalidOption', 'invalid option `client`: must be a pg Client or Pool (with query())');
  if (typeof table !== 'string' || !IDENT.test(table))
    fail('InvalidOption', `invalid option \`table\`: must be a SQL table name, got ${JSON.stringify(table)}`);
  const sql = `SELECT id, text, metadata, parent, similarity, lexical FROM ${table}_candidates($1, $2::vector, $3, $4)`;
  return async ({ text, vector, k, filter }) => {
    let result;
    try {
      result = await client.query(sql, [text, `[${Array.from(vector).join(',')}]`, k, filter === undefined ? null : JSON.stringify(filter)]);
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
      throw new MinirankError(code, `${table}_candidates failed: ${e && e.message ? e.message : e}`);
    }
    return result.rows.map(candidate);
  };
}
