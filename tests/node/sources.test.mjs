// Stage one from a source (`search(query, { source })`, `retrieve(query, { source })`) and the
// adapters of minirank/sources, in Node against the built package: a source that gives the
// engine's own pool reranks to the engine's own hits; the PostgREST adapter sends the RPC request
// `supabase.rpc` sends (through an injected fetch) and turns failures into their codes; the
// node-postgres adapter sends its query (through a fake client). A real PostgreSQL: tests/remote.rs.
//   node --test tests/node/sources.test.mjs        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const { Minirank } = await import(new URL('pkg/minirank.js', root));
const { pgSource, postgrestSource } = await import(new URL('pkg/sources.js', root));
const seedDocs = (await readFile(new URL('tests/fixtures/seed000.jsonl', root), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const { questions } = JSON.parse(await readFile(new URL('tests/fixtures/seed000_questions.json', root), 'utf8'));

const mr = await Minirank.load();
await mr.index(seedDocs);
const ids = (hits) => hits.map((h) => h.id);

test('a source that gives the engine’s pool reranks to the engine’s hits', async () => {
  for (const q of questions) {
    const asked = [];
    // the engine's own stage one, as a server would answer it: text, id and the cosine
    const source = async (request) => {
      asked.push(request);
      return (await mr.retrieve(q, { k: request.k, retrieval: 'dense' })).map(({ id, text, dense }) => ({ id, text, dense }));
    };
    const remote = await mr.search(q, { source, candidates: 20, topK: 5 });
    const local = await mr.search(q, { retrieval: 'dense', candidates: 20, topK: 5 });
    assert.equal(remote.stage, 'reranked');
    assert.deepEqual(ids(remote.hits), ids(local.hits), q);
    for (const [a, b] of remote.hits.map((h, i) => [h, local.hits[i]])) {
      assert.ok(Math.abs(a.fused - b.fused) < 1e-4 && a.logit === b.logit, `${a.id}: ${a.fused} vs ${b.fused}`);
      assert.ok(Math.abs(a.dense - b.dense) < 1e-6 && Math.abs(a.bm25 - b.bm25) < 1e-4);
    }
    assert.equal(asked.length, 1);
    assert.equal(asked[0].text, q);
    assert.equal(asked[0].k, 20);
    assert.ok(mr.fingerprint > 0);
    assert.deepEqual(asked[0].model, { dim: 384, fingerprint: mr.fingerprint }, 'the bi-encoder, for the source to check');
    assert.ok(asked[0].vector instanceof Float32Array && asked[0].vector.length === 384);
    const e = await mr.embed(q);
    assert.ok(
      asked[0].vector.every((x, i) => Math.abs(x - e[i]) < 1e-6),
      'the query embedded by this bi-encoder',
    );
  }
});

test('retrieve and search with a source: filter to the source, exclude here, options checked', async () => {
  let request;
  const source = (r) => {
    request = r;
    return [
      { id: 'a', text: 'Multiprocessing runs CPU-bound Python in parallel processes.', dense: 0.6 },
      { id: 'b', text: 'asyncio is for I/O-bound concurrency.', dense: 0.3 },
    ];
  };
  const pool = await mr.retrieve('cpu bound', { source, k: 7, filter: { lang: 'en' }, exclude: ['b'] });
  assert.deepEqual(ids(pool), ['a']);
  assert.deepEqual({ k: request.k, filter: request.filter }, { k: 7, filter: { lang: 'en' } });
  const r = await mr.search('cpu bound', { source, topK: 1, fusion: { crossEncoder: 1 } });
  assert.equal(r.hits.length, 1);
  assert.equal(r.candidates.length, 2);
  const code = (p) =>
    p.then(
      () => 'resolved',
      (e) => `${e.name}:${e.code}:${e.message}`,
    );
  assert.match(await code(mr.search('q', { source, retrieval: 'bm25' })), /InvalidOption:.*`retrieval`: stage one is the source's/);
  assert.match(await code(mr.search('q', { source, onStage: () => {} })), /InvalidOption:.*`onStage`/);
  assert.match(await code(mr.search('q', { source, topk: 3 })), /InvalidOption:.*`topk`/);
  assert.match(await code(mr.search('q', { source: 'db' })), /InvalidOption:.*`source`/);
  assert.match(await code(mr.search('q', { source: () => [{ id: 'x' }] })), /SourceSchema:.*no text/);
  assert.match(await code(mr.search('q', { source: () => ({ rows: [] }) })), /SourceSchema:.*not an array/);
  assert.match(
    await code(
      mr.search('q', {
        source: () => {
          throw new Error('ECONNRESET');
        },
      }),
    ),
    /SourceConnection:.*ECONNRESET/,
  );
  const controller = new AbortController();
  const slow = mr.search('q', { source: () => new Promise(() => {}), signal: controller.signal });
  controller.abort();
  assert.match(await code(slow), /Aborted/);
});

test('postgrestSource sends the RPC request of supabase.rpc and maps rows and failures', async () => {
  const calls = [];
  let answer = () =>
    new Response(
      JSON.stringify([
        {
          id: 'mp',
          text: 'Multiprocessing runs CPU-bound Python in parallel processes.',
          metadata: { source: 'docs' },
          parent: null,
          similarity: 0.62,
          lexical: 0.1,
        },
        { id: 7, text: 'The GIL serialises threads.', metadata: {}, parent: 'gil-page', similarity: 0.41, lexical: 0 },
      ]),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  // minirank_tables' row of the table: the bi-encoder that embedded it
  let table = () => [{ fingerprint: mr.fingerprint, dimension: 384 }];
  const fetch = async (url, init) => {
    calls.push({ url, ...init, body: init.body && JSON.parse(init.body) });
    return url.includes('/minirank_tables?') ? new Response(JSON.stringify(table()), { status: 200 }) : answer();
  };
  const source = postgrestSource({ url: 'https://project.supabase.co/rest/v1/', apiKey: 'anon-key', fetch });
  const r = await mr.search('parallel cpu work', { source, candidates: 30, topK: 2, filter: { source: 'docs' } });
  assert.equal(calls.length, 2);
  const [check, call] = calls;
  assert.equal(check.url, 'https://project.supabase.co/rest/v1/minirank_tables?select=fingerprint,dimension&name=eq.minirank');
  assert.equal(check.method, 'GET');
  assert.equal(check.headers.apikey, 'anon-key');
  assert.equal(call.url, 'https://project.supabase.co/rest/v1/rpc/minirank_candidates');
  assert.equal(call.method, 'POST');
  assert.equal(call.headers.apikey, 'anon-key');
  assert.equal(call.headers.authorization, 'Bearer anon-key');
  assert.equal(call.headers['content-type'], 'application/json');
  assert.deepEqual(Object.keys(call.body).sort(), ['filter', 'k', 'query_embedding', 'query_text']);
  assert.equal(call.body.query_text, 'parallel cpu work');
  assert.equal(call.body.k, 30);
  assert.deepEqual(call.body.filter, { source: 'docs' });
  assert.equal(call.body.query_embedding.length, 384);
  // pooled by reciprocal rank fusion: mp first by cosine and by words, 7 second by cosine, no word
  assert.deepEqual(r.candidates, [
    { id: 'mp', text: 'Multiprocessing runs CPU-bound Python in parallel processes.', dense: 0.62, score: 2 / 61, metadata: { source: 'docs' } },
    { id: '7', text: 'The GIL serialises threads.', dense: 0.41, score: 1 / 62, metadata: {}, parent: 'gil-page' },
  ]);
  assert.deepEqual(
    r.hits.map((h) => [h.id, h.dense]),
    r.hits.map((h) => [h.id, h.id === 'mp' ? 0.62 : 0.41]),
  );
  const failure = async (status, body) => {
    answer = () => new Response(body, { status });
    return mr.search('q', { source }).then(
      () => 'resolved',
      (e) => `${e.code}: ${e.message}`,
    );
  };
  assert.match(await failure(401, '{"message":"Invalid API key"}'), /^SourceAuth: .*rpc\/minirank_candidates answered HTTP 401: .*Invalid API key/);
  assert.match(await failure(404, '{"code":"PGRST202","message":"Could not find the function"}'), /^SourceSchema: /);
  assert.match(await failure(400, '{"message":"different vector dimensions 256 and 384"}'), /^SourceModel: /);
  assert.match(await failure(503, 'unavailable'), /^SourceConnection: /);
  assert.match(await failure(200, '[{"id":"x","similarity":0.1}]'), /^SourceSchema: .*no text/);
  const down = postgrestSource({
    url: 'http://127.0.0.1:9',
    fetch: () => Promise.reject(new TypeError('fetch failed')),
  });
  assert.match(
    await mr.search('q', { source: down }).catch((e) => `${e.code}: ${e.message}`),
    /^SourceConnection: could not reach http:\/\/127\.0\.0\.1:9\/minirank_tables/,
  );
  // the table's model is read once per source; another bi-encoder's table is refused
  const checks = () => calls.filter((c) => c.url.includes('/minirank_tables?')).length;
  answer = () => new Response('[]', { status: 200 });
  const before = checks();
  await mr.search('parallel cpu work', { source });
  assert.equal(checks(), before, 'once per source');
  table = () => [{ fingerprint: 12345, dimension: 384 }];
  const other = postgrestSource({ url: 'https://p/rest/v1', fetch });
  assert.match(
    await mr.search('q', { source: other }).catch((e) => `${e.code}: ${e.message}`),
    /^SourceModel: table minirank was embedded by another bi-encoder \(fingerprint 12345, dimension 384\)/,
  );
  table = () => [];
  assert.match(
    await mr.search('q', { source: postgrestSource({ url: 'https://p/rest/v1', fn: 'docs_candidates', fetch }) }).catch((e) => `${e.code}: ${e.message}`),
    /^SourceSchema: .*table docs is not usable: it is not in minirank_tables/,
  );
  const n = calls.length;
  await mr.search('q', { source: postgrestSource({ url: 'https://p/rest/v1', checkModel: false, fetch }) });
  assert.deepEqual(
    calls.slice(n).map((c) => c.method),
    ['POST'],
    'checkModel: false: no check',
  );
  assert.throws(
    () => postgrestSource({ url: 'http://x', fn: 'drop table' }),
    (e) => e.code === 'InvalidOption' && /`fn`/.test(e.message),
  );
});

test('pgSource sends one parameterised query and maps the server’s errors', async () => {
  const queries = [];
  let fail = null;
  let registered = [{ fingerprint: String(mr.fingerprint), dimension: 384 }]; // pg gives a bigint as a string
  const client = {
    query: async (sql, values) => {
      queries.push({ sql, values });
      if (fail) throw Object.assign(new Error(fail.message), { code: fail.code });
      if (sql.includes('minirank_tables')) return { rows: registered };
      return {
        rows: [{ id: 'mp', text: 'Multiprocessing runs CPU-bound Python in parallel processes.', metadata: {}, parent: null, similarity: 0.5, lexical: 0.2 }],
      };
    },
  };
  const source = pgSource(client, { table: 'docs' });
  const pool = await mr.retrieve('parallel', { source, k: 12, filter: { lang: 'en' } });
  assert.deepEqual(ids(pool), ['mp']);
  assert.deepEqual(queries[0], { sql: 'SELECT fingerprint, dimension FROM minirank_tables WHERE name = $1', values: ['docs'] });
  assert.equal(queries[1].sql, 'SELECT id, text, metadata, parent, similarity, lexical FROM docs_candidates($1, $2::vector, $3, $4)');
  assert.equal(queries[1].values[0], 'parallel');
  assert.match(queries[1].values[1], /^\[-?\d/);
  assert.equal(queries[1].values[1].split(',').length, 384);
  assert.deepEqual(queries[1].values.slice(2), [12, '{"lang":"en"}']);
  await mr.retrieve('parallel', { source });
  assert.equal(queries.filter((q) => q.sql.includes('minirank_tables')).length, 1, 'checked once per source');
  registered = [{ fingerprint: '7', dimension: 384 }];
  await assert.rejects(
    mr.retrieve('parallel', { source: pgSource(client, { table: 'docs' }) }),
    (e) => e.code === 'SourceModel' && /fingerprint 7,/.test(e.message),
  );
  registered = [];
  await assert.rejects(
    mr.retrieve('parallel', { source: pgSource(client, { table: 'docs' }) }),
    (e) => e.code === 'SourceSchema' && /not in minirank_tables/.test(e.message),
  );
  registered = [{ fingerprint: String(mr.fingerprint), dimension: 384 }];
  for (const [code, message, expected] of [
    ['28P01', 'password authentication failed for user "app"', 'SourceAuth'],
    ['42883', 'function docs_candidates(text, vector, integer, jsonb) does not exist', 'SourceSchema'],
    ['22000', 'different vector dimensions 384 and 256', 'SourceModel'],
    [undefined, 'connect ECONNREFUSED 127.0.0.1:5432', 'SourceConnection'],
  ]) {
    fail = { code, message };
    await assert.rejects(mr.retrieve('parallel', { source }), (e) => e.code === expected && e.message.includes(message));
  }
  // the union of the two top-k lists, pooled to k as the CLI pools it (src/pgvector.rs, `pool`):
  // RRF: a 1/61, b 1/63 + 1/62, c 1/62 + 1/63 (a tie: the cosine's order), d 1/64 + 1/61
  const union = [
    ['a', 0.9, 0],
    ['b', 0.5, 2],
    ['c', 0.7, 0.1],
    ['d', 0.1, 3],
  ].map(([id, similarity, lexical]) => ({ id, text: `document ${id}`, metadata: {}, parent: null, similarity, lexical }));
  const four = pgSource({ query: async (sql) => ({ rows: sql.includes('minirank_tables') ? registered : union }) });
  assert.deepEqual(ids(await mr.retrieve('q', { source: four, k: 4 })), ['d', 'c', 'b', 'a']);
  assert.deepEqual(ids(await mr.retrieve('q', { source: four, k: 2 })), ['d', 'c']);
  // any source: its first k
  const many = async () => union;
  assert.deepEqual(ids(await mr.retrieve('q', { source: many, k: 3 })), ['a', 'b', 'c']);
  assert.throws(
    () => pgSource(client, { table: 'docs; drop table docs' }),
    (e) => e.code === 'InvalidOption' && /`table`/.test(e.message),
  );
});
