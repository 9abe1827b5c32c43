// minirank/sources: candidate sources over the SQL function of `minirank export --schema`
// (docs/postgres.md). Their failures are MinirankErrors: 'SourceConnection', 'SourceAuth',
// 'SourceSchema', 'SourceModel'.
import type { RemoteSource } from './minirank.js';

export interface PostgrestSourceOptions {
  /** The REST API's base URL (Supabase: `https://PROJECT.supabase.co/rest/v1`). */
  url: string | URL;
  /** The SQL function (default 'minirank_candidates': `<table>_candidates`). */
  fn?: string;
  /** The table whose bi-encoder is checked in `minirank_tables` on the first request (default: `fn` without `_candidates`). */
  table?: string;
  /** Refuse a table another bi-encoder embedded ('SourceModel'); default true. False for a server that does not expose `minirank_tables`. */
  checkModel?: boolean;
  /** Sent as `apikey` and as the bearer token (Supabase's anon key). */
  apiKey?: string;
  /** More request headers (they win over `apiKey`'s). */
  headers?: Record<string, string>;
  /** The fetch to use (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/**
 * A source over PostgREST / Supabase: `POST <url>/rpc/<fn>` with `{ query_text, query_embedding, k, filter }`;
 * the function's union of its dense and full-text top k is kept to k by reciprocal rank fusion.
 */
export declare function postgrestSource<M = unknown>(options: PostgrestSourceOptions): RemoteSource<M>;

/** The part of a node-postgres `Client` or `Pool` a source uses. */
export interface PgQueryable {
  query(sql: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * A source over a node-postgres client or pool: `SELECT ... FROM <table>_candidates($1, $2::vector, $3, $4)`,
 * kept to k by reciprocal rank fusion; the table's bi-encoder is checked in `minirank_tables` on the first request.
 */
export declare function pgSource<M = unknown>(client: PgQueryable, options?: { table?: string }): RemoteSource<M>;
