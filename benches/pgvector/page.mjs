// Search end to end in a page for benches/pgvector/run.mjs: headless Chromium loads the package
// (main thread) from this process's server, which also stands in for PostgREST (POST
// /rpc/<table>_candidates and GET /minirank_tables, answered from PostgreSQL through the given
// node-postgres client), so the page searches with `postgrestSource` as it would against Supabase:
// embed the query, fetch the candidates, rerank 20. Beside it, the same searches over the same rows
// indexed in the page (`indexVectors`, the vectors PostgreSQL holds).
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html' };

const body = (req) =>
  new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });

/** Every row of `table`: `{ docs: [{ id, text }], vectors: Float32Array }`. */
async function allRows(client, table) {
  const { rows } = await client.query(`SELECT id, text, embedding::text AS v FROM ${table} ORDER BY id`);
  const dim = JSON.parse(rows[0].v).length;
  const vectors = new Float32Array(rows.length * dim);
  for (const [i, row] of rows.entries()) vectors.set(JSON.parse(row.v), i * dim);
  return { docs: JSON.stringify(rows.map(({ id, text }) => ({ id, text }))), vectors: Buffer.from(vectors.buffer) };
}

/** The page's figures: `{ remote, inPage, indexInPageSeconds }` (p50/p99 ms, documents reranked). */
export async function endToEndInPage({ client, table, texts, root }) {
  const dir = fileURLToPath(root);
  let rows = null;
  const server = http.createServer(async (req, res) => {
    const send = (status, type, data) => {
      res.writeHead(status, { 'content-type': type });
      res.end(data);
    };
    try {
      const { pathname } = new URL(req.url, 'http://localhost');
      if (req.method === 'POST' && pathname === `/rpc/${table}_candidates`) {
        const a = JSON.parse(await body(req));
        const sql = `SELECT id, text, metadata, parent, similarity, lexical FROM ${table}_candidates($1, $2::vector, $3, $4)`;
        const args = [a.query_text, `[${a.query_embedding.join(',')}]`, a.k, a.filter === null ? null : JSON.stringify(a.filter)];
        return send(200, 'application/json', JSON.stringify((await client.query(sql, args)).rows));
      }
      if (pathname === '/minirank_tables') {
        const found = await client.query('SELECT fingerprint, dimension FROM minirank_tables WHERE name = $1', [table]);
        return send(200, 'application/json', JSON.stringify(found.rows.map((r) => ({ fingerprint: Number(r.fingerprint), dimension: r.dimension }))));
      }
      if (pathname === '/bench/docs' || pathname === '/bench/vectors') {
        rows ||= await allRows(client, table);
        return pathname === '/bench/docs' ? send(200, 'application/json', rows.docs) : send(200, 'application/octet-stream', rows.vectors);
      }
      const path = normalize(join(dir, decodeURIComponent(pathname)));
      const st = path.startsWith(dir) && statSync(path, { throwIfNoEntry: false });
      if (!st || !st.isFile()) return send(404, 'text/plain', 'not found');
      res.writeHead(200, { 'content-type': TYPES[extname(path)] || 'application/octet-stream', 'content-length': st.size });
      createReadStream(path).pipe(res);
    } catch (e) {
      send(500, 'text/plain', String(e && e.message));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/tests/e2e/blank.html`);
    return await page.evaluate(
      async ({ texts, fn }) => {
        const { Minirank } = await import('/pkg/minirank.js');
        const { postgrestSource } = await import('/pkg/sources.js');
        const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
        const time = async (mr, opts) => {
          await mr.search(texts[0], { candidates: 20, topK: 10, ...opts }); // warm
          const lat = [];
          let reranked = 0;
          for (const text of texts) {
            const t0 = performance.now();
            const r = await mr.search(text, { candidates: 20, topK: 10, ...opts });
            lat.push(performance.now() - t0);
            reranked += r.candidates.length;
          }
          return { p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), meanReranked: reranked / texts.length };
        };
        const remote = await Minirank.load();
        const out = { queries: texts.length, remote: await time(remote, { source: postgrestSource({ url: location.origin, fn }) }) };
        remote.free();
        const docs = await (await fetch('/bench/docs')).json();
        const vectors = new Float32Array(await (await fetch('/bench/vectors')).arrayBuffer());
        const local = await Minirank.load();
        const t0 = performance.now();
        for (let start = 0; start < docs.length; start += 10_000) {
          const part = docs.slice(start, start + 10_000);
          await local.indexVectors(part, vectors.subarray(start * local.dim, (start + part.length) * local.dim));
        }
        out.indexInPageSeconds = (performance.now() - t0) / 1000;
        out.inPage = await time(local, {});
        local.free();
        return out;
      },
      { texts, fn: `${table}_candidates` },
    );
  } finally {
    await browser.close();
    server.close();
  }
}
