// A long session in headless Chromium: `MINIRANK_SOAK_CALLS` (default 100; scripts/soak.sh: 10,000)
// varied search calls on the main thread and through minirank/worker, one in ten invalid.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { checkSoak } from '../soak/check.mjs';
import { blankPage, root, start } from './harness.mjs';

const { questions } = JSON.parse(await readFile(`${root}tests/fixtures/seed000_questions.json`, 'utf8'));
const calls = Number(process.env.MINIRANK_SOAK_CALLS || 100);
const { server, browser } = await start();

for (const where of ['main thread', 'worker']) {
  test(`soak in Chromium, ${where}: ${calls} search calls`, { timeout: 3_600_000 }, async (t) => {
    const { page, problems } = await blankPage(browser, server);
    await page.exposeFunction('reportBlock', (b) =>
      t.diagnostic(`${where}: calls ${b.upTo}: p50 ${b.p50} ms, p99 ${b.p99} ms, wasm memory ${(b.memory / 1e6).toFixed(1)} MB`),
    );
    const r = await page.evaluate(
      async ({ where, calls, questions }) => {
        const { soak } = await import('/tests/soak/soak.js');
        const { documents: docs } = await import('/examples/shared/seed.js');
        let mr;
        let memory;
        if (where === 'worker') {
          const { MinirankWorker } = await import('/pkg/worker.js');
          mr = await MinirankWorker.load();
          memory = () => mr.memoryBytes();
        } else {
          const { Minirank, wasmMemoryBytes } = await import('/pkg/minirank.js');
          mr = await Minirank.load();
          memory = wasmMemoryBytes;
        }
        await mr.index(docs);
        const block = Math.max(50, Math.floor(calls / 10));
        return soak(mr, { calls, questions, memory, block, onBlock: (b) => window.reportBlock(b) });
      },
      { where, calls, questions },
    );
    checkSoak(r, calls);
    assert.deepEqual(problems, []);
  });
}
