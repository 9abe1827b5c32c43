// minirank/sources against a running PostgreSQL + pgvector (part `remote` of scripts/test.sh, which
// starts the server and loads SciFact exported by `minirank export`): `search` through `pgSource`
// gives the hits of the same search in the tab when both rank the same candidates, and the
// server's failures and another bi-encoder’s table reach the page as their codes.
//   MINIRANK_PG_URL=postgres://... node --test tests/remote/        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import pg from 'pg';

const url = process.env.MINIRANK_PG_URL;
assert.ok(url, 'MINIRANK_PG_URL is not set: run this through scripts/test.sh (part remote)');
const root = new URL('../../', import.meta.url);
const { Minirank } = await import(new URL('pkg/minirank.js', root));
const { pgSource } = await import(new URL('pkg/sources.js', root));
const queries = (await readFile(new URL('../shared/data/scifact/queries.jsonl', root), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .slice(0, 5)
  .map((l) => JSON.parse(l).text);

const client = new pg.Client({ connectionString: url });
await client.connect();
const mr = await Minirank.load();

test('search through pgSource gives the hits of the tab over the same candidates', { timeout: 300_000 }, async () => {
  const source = pgSource(client);
  for (const q of queries) {
    const remote = await mr.search(q, { source, candidates: 20, topK: 5 });
    const pool = remote.candidates;
    assert.equal(pool.length, 20, 'the union of two top-20 lists, pooled to 20');
    // the tab with exactly these documents: the same candidates, the same BM25 statistics
    const tab = await Minirank.load();
    await tab.index(pool.map(({ id, text }) => ({ id, text })));
    const local = await tab.search(q, { retrieval: 'dense', candidates: pool.length, topK: 5 });
    // the server's cosines (vectors exported by the CLI) and the tab's (embedded here) agree
    const cos = new Map(local.candidates.map((c) => [c.id, c.dense]));
    for (const c of pool) assert.ok(Math.abs(c.dense - cos.get(c.id)) < 2e-3, `${c.id}: ${c.dense} vs ${cos.get(c.id)}`);
    assert.deepEqual(
      remote.hits.map((h) => h.id),
      local.hits.map((h) => h.id),
      q,
    );
    tab.free();
  }
});

test('the server’s failures and another bi-encoder’s table reach the page as their codes', { timeout: 120_000 }, async () => {
  const q = queries[0];
  await assert.rejects(mr.search(q, { source: pgSource(client, { table: 'no_such_table' }) }), (e) => e.code === 'SourceSchema');
  // a pool that logs in with a wrong password: its first query fails, and the source says why
  const wrongPassword = new pg.Pool({ connectionString: url.replace(/\/\/([^:@/]+)(:[^@]*)?@/, '//$1:wrong@') });
  await assert.rejects(mr.search(q, { source: pgSource(wrongPassword) }), (e) => e.code === 'SourceAuth' && /password/.test(e.message));
  await wrongPassword.end();
  // a connection that is gone: the client's error is the source's SourceConnection
  const gone = new pg.Client({ connectionString: url });
  await gone.connect();
  await gone.end();
  await assert.rejects(mr.search(q, { source: pgSource(gone) }), (e) => e.code === 'SourceConnection');
  // a query vector of another dimension than the table's
  const short = (request) => pgSource(client)({ ...request, vector: request.vector.subarray(0, 256) });
  await assert.rejects(mr.search(q, { source: short }), (e) => e.code === 'SourceModel');
  // a table another bi-encoder embedded (its fingerprint in minirank_tables): refused before any search
  await client.query(
    "INSERT INTO minirank_tables (name, fingerprint, dimension) VALUES ('page_other_model', 1, 384) ON CONFLICT (name) DO UPDATE SET fingerprint = 1",
  );
  await assert.rejects(
    mr.search(q, { source: pgSource(client, { table: 'page_other_model' }) }),
    (e) => e.code === 'SourceModel' && /fingerprint 1, dimension 384/.test(e.message),
  );
  await client.query("DELETE FROM minirank_tables WHERE name = 'page_other_model'");
});

test.after(async () => {
  await client.end();
});
