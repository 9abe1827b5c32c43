// 200 calls in flight at once on one MinirankWorker and on a pool of two, mixing index, remove,
// search, rerank and saveIndex without awaiting: every promise settles, and every result equals
// what the same calls give one after the other, in the order they were made (the ordering
// guarantee: a worker answers calls in order; a pool's search is prepared in that order).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { blankPage, root, start } from './harness.mjs';

const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));
const { server, browser } = await start();

test('200 overlapping calls give the results of the same calls made one by one, in order', { timeout: 900_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async (qs) => {
    const { rng } = await import('/tests/soak/soak.js');
    const { Minirank } = await import('/pkg/minirank.js');
    const { MinirankWorker } = await import('/pkg/worker.js');
    const { documents: docs } = await import('/examples/shared/seed.js');
    const random = rng(7);
    const ids = docs.map((d) => d.id);
    const ops = [];
    for (let i = 0; i < 200; i++) {
      const x = random();
      if (x < 0.2) {
        const batch = [0, 1].map((j) => ({ id: `new-${i}-${j}`, text: `note ${i}.${j}: ${docs[(i + j) % docs.length].text}` }));
        ids.push(...batch.map((d) => d.id));
        ops.push({ kind: 'index', docs: batch });
      } else if (x < 0.3) ops.push({ kind: 'remove', id: ids[Math.floor(random() * ids.length)] });
      else if (x < 0.7) ops.push({ kind: 'search', q: `${qs[i % 3]} ${i % 7 ? '' : 'notes'}`.trim() });
      else if (x < 0.9) ops.push({ kind: 'rerank', q: qs[(i + 1) % 3], cands: docs.slice(i % 10, (i % 10) + 6).map((d) => d.text) });
      else ops.push({ kind: 'save' });
    }
    const digest = (bytes) => {
      let h = 0;
      for (const b of bytes) h = (Math.imul(h, 31) + b) | 0;
      return [bytes.length, h];
    };
    const exec = (mr, op) => {
      // issued at once; a main-thread method may answer without a promise
      try {
        return Promise.resolve(call(mr, op));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    const call = (mr, op) => {
      switch (op.kind) {
        case 'index':
          return mr.index(op.docs);
        case 'remove':
          return mr.remove(op.id);
        case 'search':
          return mr.search(op.q, { candidates: 10, topK: 3 });
        case 'rerank':
          return mr.rerank(op.q, op.cands, { topK: 2 });
        default:
          return Promise.resolve(mr.saveIndex()).then(digest);
      }
    };
    const summary = (s) => {
      if (s.status === 'rejected') return { error: `${s.reason.name}:${s.reason.code}:${s.reason.message}` };
      const v = s.value;
      return v && v.hits ? { hits: v.hits.map((h) => [h.id, h.fused]) } : { value: v };
    };
    const out = {};
    // the reference: the same calls, one at a time, on the main thread
    const ref = await Minirank.load();
    await ref.index(docs);
    out.serial = [];
    for (const op of ops)
      out.serial.push(
        summary(
          await exec(ref, op).then(
            (value) => ({ status: 'fulfilled', value }),
            (reason) => ({ status: 'rejected', reason }),
          ),
        ),
      );
    out.final = { serial: [ref.size, digest(ref.saveIndex())] };
    ref.free();
    for (const [name, workers] of [
      ['worker', 1],
      ['pool', 2],
    ]) {
      const mr = await MinirankWorker.load({ workers });
      await mr.index(docs);
      const settled = await Promise.allSettled(ops.map((op) => exec(mr, op)));
      out[name] = settled.map(summary);
      out.final[name] = [mr.size, digest(await mr.saveIndex())]; // nothing indexed is lost
      mr.terminate();
    }
    out.kinds = ops.map((o) => o.kind);
    return out;
  }, questions);
  const counts = {};
  r.kinds.forEach((k) => {
    counts[k] = (counts[k] || 0) + 1;
  });
  assert.ok(counts.index >= 20 && counts.remove >= 10 && counts.search >= 50 && counts.rerank >= 20 && counts.save >= 5, JSON.stringify(counts));
  for (const name of ['worker', 'pool']) {
    assert.equal(r[name].length, r.serial.length);
    r.serial.forEach((want, i) => {
      const got = r[name][i];
      const what = `${name}: call ${i} (${r.kinds[i]})`;
      if (want.hits) {
        assert.ok(got.hits, `${what}: ${JSON.stringify(got)}`);
        assert.deepEqual(
          got.hits.map((h) => h[0]),
          want.hits.map((h) => h[0]),
          what,
        );
        got.hits.forEach((h, j) => {
          assert.ok(Math.abs(h[1] - want.hits[j][1]) < 1e-3, `${what}: fused ${h[1]} vs ${want.hits[j][1]}`);
        });
      } else {
        assert.deepEqual(got, want, what);
      }
    });
  }
  assert.ok(
    r.serial.every((s) => !s.error),
    'the reference run has no error',
  );
  assert.deepEqual(r.final.worker, r.final.serial);
  assert.deepEqual(r.final.pool, r.final.serial);
  assert.ok(r.final.serial[0] > 40, `documents at the end: ${r.final.serial[0]}`);
  assert.deepEqual(problems, []);
});
