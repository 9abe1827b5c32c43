// End-to-end: the www/ demo in headless Chromium, served with a strict Content-Security-Policy.
//   node --test tests/e2e/        (after scripts/build-wasm.sh; needs /usr/bin/chromium)
// Screenshot: $MINIRANK_ARTIFACTS/demo.png (default test-artifacts/).

import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { root, start } from './harness.mjs';

const artifacts = process.env.MINIRANK_ARTIFACTS || `${root}test-artifacts`;
const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));

const { server, browser } = await start();

test('the demo loads, searches the seed question and reranks under a strict CSP', { timeout: 600_000 }, async () => {
  const page = await browser.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  // the page's requests and its worker's (the service worker fetches the files once more to precache them: docs/offline.md)
  page.context().on('request', (r) => r.serviceWorker() || requests.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  const response = await page.goto(server.url);
  assert.match(response.headers()['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval'/);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
  assert.match(await page.textContent('#doc-count'), /20 indexed/);

  // searches are progressive: the fused answer shows first, then the reranked one replaces it
  await page.waitForFunction(() => document.body.dataset.crossEncoder === 'ready', null, { timeout: 120_000 });
  await page.evaluate(() => {
    window.__stages = [];
    new MutationObserver(() => window.__stages.push(document.body.dataset.stage)).observe(document.body, { attributeFilter: ['data-stage'] });
  });
  await page.click('#examples button:first-child');
  await page.waitForFunction(() => document.body.dataset.stage === 'reranked' && document.querySelectorAll('#stage2 li').length === 5, null, {
    timeout: 120_000,
  });
  assert.deepEqual(await page.evaluate(() => window.__stages), ['searching', 'fused', 'reranked']);
  const stage1 = await page.$$eval('#stage1 li .id', (els) => els.map((e) => e.textContent));
  const stage2 = await page.$$eval('#stage2 li .id', (els) => els.map((e) => e.textContent));
  assert.equal(stage1.length, 20);
  assert.ok(['multiprocessing', 'gil', 'concurrent-futures', 'numba'].includes(stage2[0]), stage2.join());
  assert.notDeepEqual(stage2, stage1.slice(0, 5), 'reranking changes the top 5');
  assert.equal(await page.inputValue('#query'), questions[0]);
  assert.match(await page.textContent('#timings'), /stage 1 \(hybrid .*stage 2 \(cross-encoder on 20 pairs.* ms in all/);
  // every stage-2 hit explains its fused score: each signal's value and its share
  assert.match(
    await page.textContent('#stage2 li:first-child .score'),
    /fused -?[\d.]+ = cos [\d.]+ \([+−][\d.]+\) · bm25 [\d.]+ \([+−][\d.]+\) · logit -?[\d.]+ \([+−][\d.]+\)/,
  );
  // the BM25 weight is left to the query's length by default, and the page shows the one chosen
  assert.equal(await page.isChecked('#f-bm25-auto'), true);
  assert.match(await page.textContent('#f-bm25-out'), /^auto: \d\.\d\d$/);

  // retrieval modes: BM25 and hybrid candidates, then a cascade that narrows 20 to 10
  const searchAgain = async () => {
    await page.$eval('#stage2', (el) => el.replaceChildren());
    await page.click('#search-btn');
    await page.waitForFunction(() => document.body.dataset.stage === 'reranked' && document.querySelectorAll('#stage2 li').length > 0, null, {
      timeout: 120_000,
    });
  };
  await page.selectOption('#retrieval', 'bm25');
  await searchAgain();
  assert.equal(await page.textContent('#stage1-name'), 'BM25');
  assert.match(await page.textContent('#stage1 li:first-child .score'), /\[bm25 /);
  await page.selectOption('#retrieval', 'hybrid');
  await page.selectOption('#cascade', '10');
  await searchAgain();
  assert.match(await page.textContent('#timings'), /cascade kept 10; stage 2 \(cross-encoder on 10 pairs/);
  await page.selectOption('#retrieval', 'dense');
  await page.selectOption('#cascade', '');

  // signal weights: authority dominates, every hit explains its score
  const slide = (id, v) =>
    page.$eval(
      id,
      (el, v) => {
        el.value = v;
        el.dispatchEvent(new Event('input'));
      },
      v,
    );
  await slide('#w-relevance', '0.1');
  await slide('#w-authority', '1');
  await searchAgain();
  const comps = await page.$$eval('#stage2 li .components', (els) => els.map((e) => e.textContent));
  assert.equal(comps.length, 5);
  assert.ok(
    comps.every((c) => /relevance .* authority .* final/.test(c)),
    comps.join('\n'),
  );
  const authorities = comps.map((c) => Number(/authority ([0-9.]+)/.exec(c)[1]));
  assert.deepEqual(
    authorities,
    [...authorities].sort((a, b) => b - a),
    'ordered by authority when it dominates',
  );
  await slide('#w-relevance', '1');
  await slide('#w-authority', '0');

  // a threshold nobody passes: "no confident answer"
  await page.$eval('#threshold', (el) => {
    el.value = '1';
    el.dispatchEvent(new Event('input'));
  });
  await page.click('#search-btn');
  await page.waitForSelector('#no-answer:not([hidden])', { timeout: 60_000 });

  // documents are text, never HTML
  await page.$eval('#threshold', (el) => {
    el.value = '0';
    el.dispatchEvent(new Event('input'));
  });

  // search as you type: every keystroke's query supersedes the last one's rerank; the last is reranked
  await page.evaluate(() => {
    window.__stages = [];
  });
  await page.fill('#query', '');
  await page.type('#query', 'cpu bound', { delay: 15 });
  await page.waitForFunction(() => document.body.dataset.stage === 'reranked' && /“cpu bound”/.test(document.getElementById('timings').textContent), null, {
    timeout: 60_000,
  });
  const typed = await page.evaluate(() => window.__stages);
  assert.ok(typed.filter((s) => s === 'fused').length >= 2, typed.join());
  assert.equal(typed.at(-1), 'reranked');
  assert.ok(await page.isHidden('#error'), await page.textContent('#error'));
  await page.fill('#docs-input', '<img src=x onerror="window.__pwned=1"> Multiprocessing uses separate processes\nBananas are yellow');
  await page.click('#index-btn');
  await page.waitForFunction(() => /2 indexed/.test(document.getElementById('doc-count').textContent), null, { timeout: 120_000 });
  await page.fill('#query', 'processes');
  await page.click('#search-btn');
  await page.waitForFunction(() => document.body.dataset.stage === 'reranked' && document.querySelectorAll('#stage2 li').length === 2, null, {
    timeout: 60_000,
  });
  assert.equal(await page.$$eval('#results img', (els) => els.length), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.match(await page.textContent('#stage2'), /<img src=x/);

  await mkdir(artifacts, { recursive: true });
  await page.click('#reset-btn');
  await page.waitForFunction(() => /20 indexed/.test(document.getElementById('doc-count').textContent), null, { timeout: 120_000 });
  await page.click('#examples button:first-child');
  await page.waitForFunction(() => document.body.dataset.stage === 'reranked' && document.querySelectorAll('#stage2 li').length === 5, null, {
    timeout: 120_000,
  });
  await page.screenshot({ path: `${artifacts}/demo.png`, fullPage: true });

  // a reload takes the models from the Cache API (keyed by sha256), not from the network
  const modelFetches = (list) => list.filter((u) => /\/models\/[a-z-]+\/model\.nnef\.tar$/.test(u)).length;
  assert.equal(modelFetches(requests), 2, 'first load downloads both models');
  const reloadRequests = [];
  page.context().on('request', (r) => r.serviceWorker() || reloadRequests.push(r.url()));
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
  assert.equal(modelFetches(reloadRequests), 0, `reload fetched models again: ${reloadRequests.join(' ')}`);
  // ... and the index from IndexedDB: nothing is embedded again
  assert.match(await page.textContent('#doc-count'), /20 indexed, restored/);
  assert.match(await page.textContent('#status'), /restored 20 documents from IndexedDB/);
  await page.click('#examples button:first-child');
  await page.waitForFunction(() => document.body.dataset.stage === 'reranked' && document.querySelectorAll('#stage2 li').length === 5, null, {
    timeout: 120_000,
  });

  // a damaged saved index is refused (size/digest check) and the demo indexes again
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('minirank', 1);
        open.onsuccess = () => {
          const tx = open.result.transaction('indexes', 'readwrite');
          tx.objectStore('indexes').put({ format: 'minirank-index', version: 1, size: 3, sha256: 'x', bytes: new Uint8Array([1, 2, 3]) }, 'demo');
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
      }),
  );
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
  assert.match(await page.textContent('#doc-count'), /^\(20 indexed\)$/);
  assert.match(await page.textContent('#persist'), /Index saved to IndexedDB/);

  const origin = new URL(server.url).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, [], 'no request leaves the page origin');
  assert.deepEqual(
    problems.filter((p) => /Content Security Policy|Refused/.test(p)),
    [],
    'no CSP violation',
  );
  assert.deepEqual(problems, []);
});
