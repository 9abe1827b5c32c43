// Stage one on PostgreSQL + pgvector at 100k and 1M documents (`scripts/bench.sh pgvector` starts the
// server, loads SciFact exported by `minirank export` as the table `base`, and runs this): per size,
// the rows are SciFact's 5,183 abstracts with their real vectors, then synthetic rows near them
// (each the unit-length sum of one real vector, half of another and half of a seeded random one, its text
// the first 300 characters of the first abstract and 100 of the second), generated in the server.
// Printed and written to benches/results/pgvector.json: load and index time, disk, dense top-100
// latency (p50/p99) and recall@100 against an exact scan at two hnsw.ef_search settings, the
// latency of `TABLE_candidates` as minirank/sources calls it, queries per second from 8 clients,
// and search end to end in a page (headless Chromium, benches/pgvector/page.mjs) and in Node: embed
// the query + candidates from the server + rerank 20, beside the same search over the same rows
// indexed in the page (in the process).
//   MINIRANK_PG_URL=... MINIRANK=target/release/minirank BENCH_PG_QUERIES=FILE node benches/pgvector/run.mjs
//   BENCH_PG_SIZES=100000 (default 100000,1000000), BENCH_PG_QUERIES_N=100 (queries timed per setting)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { endToEndInPage } from './page.mjs';

const root = new URL('../../', import.meta.url);
const url = process.env.MINIRANK_PG_URL;
const minirank = process.env.MINIRANK;
if (!url || !minirank || !process.env.BENCH_PG_QUERIES) throw new Error('run through scripts/bench.sh pgvector');
const sizes = (process.env.BENCH_PG_SIZES || '100000,1000000').split(',').map(Number);
const nQueries = Number(process.env.BENCH_PG_QUERIES_N || 100);
const EF = [100, 400];
const CLIENTS = 8;
const QPS_SECONDS = 10;
const E2E_MAX = 100_000; // the in-process side holds every row: sizes up to this one

/** The rows of a `minirank export` file: id, text, embedding. */
function readCopy(file) {
  const unescapeCopy = (s) => s.replace(/\\(.)/g, (_, c) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, text, , , vector] = line.split('\t');
      return { id: unescapeCopy(id), text: unescapeCopy(text), vector: JSON.parse(vector) };
    });
}

const queries = readCopy(process.env.BENCH_PG_QUERIES).slice(0, nQueries);
const vec = (v) => `[${v.join(',')}]`;
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();

const client = new pg.Client({ connectionString: url });
await client.connect();
const q = (text, params) => client.query(text, params);
const [{ version }] = (await q('SELECT version()')).rows;
const [{ extversion }] = (await q("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).rows;

// seeded noise vectors and the numbered real rows, once
await q('SELECT setseed(0.42)');
await q(`CREATE TABLE noise AS SELECT l, l2_normalize((SELECT array_agg(random() - 0.5)::vector(384) FROM generate_series(1, 384) WHERE l >= 0)) AS v
         FROM generate_series(0, 4095) l`);
await q('CREATE TABLE base_n AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id, text, embedding FROM base');
await q('CREATE UNIQUE INDEX ON base_n (n)');
const [{ count: real }] = (await q('SELECT count(*)::int AS count FROM base_n')).rows;

const results = [];
for (const n of sizes) {
  const table = `bench_${n}`;
  const r = { documents: n, realDocuments: real, date: new Date().toISOString() };
  results.push(r);
  const schema = execFileSync(minirank, ['export', '--models', 'models', '--schema', '--table', table], { cwd: root, encoding: 'utf8' });
  const indexes = schema.match(/^CREATE INDEX IF NOT EXISTS .*;$/gm);
  await q(schema);
  await q(`DROP INDEX ${table}_embedding_idx, ${table}_tsv_idx, ${table}_metadata_idx`);
  let t0 = now();
  await q(
    `INSERT INTO ${table} (id, text, embedding)
           SELECT CASE WHEN k < $2 THEN a.id ELSE 's' || k END,
                  CASE WHEN k < $2 THEN a.text ELSE left(a.text, 300) || ' ' || left(b.text, 100) END,
                  CASE WHEN k < $2 THEN a.embedding
                       ELSE l2_normalize(a.embedding + b.embedding * array_fill(0.5::real, ARRAY[384])::vector
                                         + noise.v * array_fill(0.5::real, ARRAY[384])::vector) END
           FROM generate_series(0::bigint, $1::bigint - 1) k
           JOIN base_n a ON a.n = k % $2
           JOIN base_n b ON b.n = (k * 7919 + 13) % $2
           JOIN noise ON noise.l = (k * 104729) % 4096`,
    [n, real],
  );
  r.loadSeconds = ms(t0) / 1000;
  await q("SET maintenance_work_mem = '8GB'");
  await q('SET max_parallel_maintenance_workers = 1');
  r.indexSeconds = {};
  for (const sql of indexes) {
    const name = /EXISTS (\S+)/.exec(sql)[1].replace(`${table}_`, '');
    t0 = now();
    await q(sql);
    r.indexSeconds[name] = ms(t0) / 1000;
    console.log(`${n}: ${name} built in ${r.indexSeconds[name].toFixed(1)} s`);
  }
  await q('RESET maintenance_work_mem');
  t0 = now();
  await q(`REFRESH MATERIALIZED VIEW ${table}_words`);
  r.wordsSeconds = ms(t0) / 1000;
  await q(`VACUUM ANALYZE ${table}`);
  const size = async (rel) => Number((await q('SELECT pg_total_relation_size($1) AS b', [rel])).rows[0].b);
  r.diskBytes = { total: await size(table), embeddingIndex: await size(`${table}_embedding_idx`), textIndex: await size(`${table}_tsv_idx`) };

  // exact top-100 (a scan, no index), then HNSW at each ef_search
  const exact = [];
  t0 = now();
  for (const query of queries) {
    await q('BEGIN');
    await q('SET LOCAL enable_indexscan = off');
    exact.push(new Set((await q(`SELECT id FROM ${table} ORDER BY embedding <=> $1::vector LIMIT 100`, [vec(query.vector)])).rows.map((x) => x.id)));
    await q('COMMIT');
  }
  r.exactScanMs = ms(t0) / queries.length;
  r.dense = [];
  for (const ef of EF) {
    await q(`SET hnsw.ef_search = ${ef}`);
    const lat = [];
    let recall = 0;
    for (const [i, query] of queries.entries()) {
      t0 = now();
      const rows = (await q(`SELECT id FROM ${table} ORDER BY embedding <=> $1::vector LIMIT 100`, [vec(query.vector)])).rows;
      lat.push(ms(t0));
      recall += rows.filter((x) => exact[i].has(x.id)).length / 100;
    }
    r.dense.push({ efSearch: ef, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), recallAt100: recall / queries.length });
  }
  await q('RESET hnsw.ef_search');
  // the union of the dense and full-text top 20, as pgSource asks for it (ef_search 100 inside)
  // and with every word's rows ranked (max_matches past the corpus): what the bound saves, and
  // how many of the full-text top 20 it keeps
  const fn = `SELECT id, text, metadata, parent, similarity, lexical FROM ${table}_candidates($1, $2::vector, $3, NULL)`;
  const unbounded = `SELECT id, lexical FROM ${table}_candidates($1, $2::vector, $3, NULL, 2147483647)`;
  const lat = [];
  const latAll = [];
  let kept = 0;
  let total = 0;
  for (const query of queries) {
    const args = [query.text, vec(query.vector), 20];
    t0 = now();
    const rows = (await q(fn, args)).rows;
    lat.push(ms(t0));
    t0 = now();
    const all = (await q(unbounded, args)).rows;
    latAll.push(ms(t0));
    const top = (xs) =>
      xs
        .filter((x) => x.lexical > 0)
        .sort((a, b) => b.lexical - a.lexical || (a.id < b.id ? -1 : 1))
        .slice(0, 20);
    const mine = new Set(top(rows).map((x) => x.id));
    const want = top(all);
    kept += want.filter((x) => mine.has(x.id)).length;
    total += want.length;
  }
  r.candidates20 = {
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    everyWordP50Ms: pct(latAll, 50),
    everyWordP99Ms: pct(latAll, 99),
    lexicalTop20Kept: kept / total,
  };

  // queries per second from 8 clients, each its own connection
  const pool = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  r.qps = {};
  for (const [label, sql, args] of [
    ['candidates20', fn, (x) => [x.text, vec(x.vector), 20]],
    ['dense100ef100', `SELECT id FROM ${table} ORDER BY embedding <=> $1::vector LIMIT 100`, (x) => [vec(x.vector)]],
  ]) {
    if (label === 'dense100ef100') for (const c of pool) await c.query('SET hnsw.ef_search = 100');
    const end = Date.now() + QPS_SECONDS * 1000;
    const counts = await Promise.all(
      pool.map(async (c, ci) => {
        let done = 0;
        for (let i = ci; Date.now() < end; i++, done++) await c.query(sql, args(queries[i % queries.length]));
        return done;
      }),
    );
    r.qps[label] = counts.reduce((a, b) => a + b, 0) / QPS_SECONDS;
  }
  await Promise.all(pool.map((c) => c.end()));

  if (n <= E2E_MAX) {
    r.endToEnd = await endToEnd(table);
    r.endToEndInPage = await endToEndInPage({ client, table, texts: queries.slice(0, 30).map((x) => x.text), root });
    r.quality = evalThrough(table, schema);
  }
  console.log(JSON.stringify(r));
  await q(`DROP TABLE ${table} CASCADE`);
  await q('DELETE FROM minirank_tables WHERE name = $1', [table]);
}

/**
 * `minirank eval --source` on SciFact's judged queries over this table (SciFact's abstracts among
 * the synthetic rows, which no query is judged on): nDCG@10 of `dense` and of the fused ranking
 * without the cross-encoder, with the function's full-text bound (max_matches 5000, the default)
 * and with every word's rows ranked (the function created again with another default).
 */
function evalThrough(table, schema) {
  const run = () => {
    const out = execFileSync(
      minirank,
      [
        'eval',
        '--models',
        'models',
        '--source',
        url,
        '--table',
        table,
        '--collection',
        '../shared/data/scifact',
        '--methods',
        'dense,default-without-cross-encoder',
        '--json',
      ],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    return Object.fromEntries(Object.entries(JSON.parse(out).methods).map(([method, m]) => [method, m['ndcg@10']]));
  };
  const bounded = run();
  execFileSync(`${process.env.MINIRANK_PG_BIN}/psql`, ['-q', '-X', '-v', 'ON_ERROR_STOP=1', url], {
    input: schema.replace('max_matches int DEFAULT 5000', 'max_matches int DEFAULT 2147483647'),
  });
  const everyWord = run();
  execFileSync(`${process.env.MINIRANK_PG_BIN}/psql`, ['-q', '-X', '-v', 'ON_ERROR_STOP=1', url], { input: schema });
  return { ndcg10: { maxMatches5000: bounded, everyWord } };
}

/** search(query) in Node with candidates from the server, and over the same rows indexed here. */
async function endToEnd(table) {
  const { Minirank } = await import(new URL('pkg/minirank.js', root));
  const { pgSource } = await import(new URL('pkg/sources.js', root));
  const texts = queries.slice(0, 30).map((x) => x.text);
  const remote = await Minirank.load();
  const source = pgSource(client, { table });
  const time = async (mr, opts) => {
    await mr.search(texts[0], { candidates: 20, topK: 10, ...opts }); // warm
    const lat = [];
    let reranked = 0;
    for (const text of texts) {
      const t0 = now();
      const res = await mr.search(text, { candidates: 20, topK: 10, ...opts });
      lat.push(ms(t0));
      reranked += res.candidates.length;
    }
    // the server's pool is the union of two top-20 lists: up to 40 documents reranked
    return { p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), meanReranked: reranked / texts.length };
  };
  const out = { queries: texts.length, remote: await time(remote, { source }) };
  // every row into the process: ids, texts and vectors, indexed without running the model
  const local = await Minirank.load();
  let t0 = now();
  const rows = (await q(`SELECT id, text, embedding::text AS v FROM ${table} ORDER BY id`)).rows;
  out.fetchAllSeconds = ms(t0) / 1000;
  t0 = now();
  for (let start = 0; start < rows.length; start += 10_000) {
    const part = rows.slice(start, start + 10_000);
    const vectors = new Float32Array(part.length * local.dim);
    for (const [i, row] of part.entries()) vectors.set(JSON.parse(row.v), i * local.dim);
    await local.indexVectors(
      part.map(({ id, text }) => ({ id, text })),
      vectors,
    );
  }
  out.indexInProcessSeconds = ms(t0) / 1000;
  out.inProcess = await time(local, {});
  remote.free();
  local.free();
  return out;
}
await client.end();

const f = (x, d = 1) => (x === undefined ? '-' : x.toFixed(d));
const out = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0].model}`,
  postgres: version.split(' ').slice(0, 2).join(' '),
  pgvector: extversion,
  queries: queries.length,
  results,
};
// the sizes not run this time stay as an earlier run left them (each result has its date)
const file = new URL('benches/results/pgvector.json', root);
const earlier = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).results : [];
out.results = [...earlier.filter((e) => !sizes.includes(e.documents)), ...results].sort((a, b) => a.documents - b.documents);
writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
console.log(`\n${out.postgres}, pgvector ${out.pgvector}, ${out.machine}; ${queries.length} SciFact queries, k = 100 unless said`);
console.log(
  '| documents | load | HNSW build | full-text index | disk (HNSW) | exact scan | ef 100: p50 / p99, recall@100 | ef 400: p50 / p99, recall@100 | candidates (k 20): p50 / p99 (all words) | QPS, 8 clients: candidates / dense | end to end in a page (Node): remote / rows in the page (process) p50 |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of out.results) {
  const [a, b] = r.dense;
  const e = r.endToEnd;
  const p = r.endToEndInPage;
  console.log(
    `| ${r.documents.toLocaleString('en')} | ${f(r.loadSeconds)} s | ${f(r.indexSeconds.embedding_idx)} s | ${f(r.indexSeconds.tsv_idx)} s | ${f(r.diskBytes.total / 2 ** 20, 0)} MiB (${f(r.diskBytes.embeddingIndex / 2 ** 20, 0)}) | ${f(r.exactScanMs, 0)} ms | ${f(a.p50Ms)} / ${f(a.p99Ms)} ms, ${f(a.recallAt100, 3)} | ${f(b.p50Ms)} / ${f(b.p99Ms)} ms, ${f(b.recallAt100, 3)} | ${f(r.candidates20.p50Ms)} / ${f(r.candidates20.p99Ms)} ms (${f(r.candidates20.everyWordP50Ms)} / ${f(r.candidates20.everyWordP99Ms)}) | ${f(r.qps.candidates20, 0)} / ${f(r.qps.dense100ef100, 0)} | ${p ? `${f(p.remote.p50Ms, 0)} / ${f(p.inPage.p50Ms, 0)} ms (${f(e.remote.p50Ms, 0)} / ${f(e.inProcess.p50Ms, 0)} ms), ${f(p.remote.meanReranked, 0)} reranked` : '-'} |`,
  );
}
for (const r of out.results.filter((x) => x.quality)) {
  const { maxMatches5000: b, everyWord: e } = r.quality.ndcg10;
  console.log(
    `\nSciFact's 300 judged queries over the ${r.documents.toLocaleString('en')} rows, minirank eval --source: nDCG@10 dense ${f(b.dense, 4)} / ${f(e.dense, 4)}, ` +
      `fused without the cross-encoder ${f(b['default-without-cross-encoder'], 4)} / ${f(e['default-without-cross-encoder'], 4)} (full-text bound 5000 rows / every word's rows)`,
  );
}
