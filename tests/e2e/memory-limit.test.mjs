// A page whose wasm memory is capped (V8's --wasm-max-mem-pages, 60 MB) cannot hold both models
// (about 104 MB): the load fails with a MinirankError 'OutOfMemory' instead of a trap, on the main
// thread and in a worker, and the page goes on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blankPage, start } from './harness.mjs';

const { server, browser } = await start({ args: ['--js-flags=--wasm-max-mem-pages=960'] });

test('a model load the memory cannot hold is a MinirankError OutOfMemory, not a trap', { timeout: 600_000 }, async () => {
  const { page, problems } = await blankPage(browser, server);
  const r = await page.evaluate(async () => {
    const { Minirank, sha256 } = await import('/pkg/minirank.js');
    const { MinirankWorker } = await import('/pkg/worker.js');
    const error = (p) =>
      p.then(
        () => null,
        (e) => ({ name: e.name, code: e.code, message: e.message }),
      );
    return {
      main: await error(Minirank.load()),
      worker: await error(MinirankWorker.load()),
      after: (await sha256(new Uint8Array([1, 2, 3]))).slice(0, 8), // the page goes on
    };
  });
  for (const where of ['main', 'worker']) {
    assert.equal(r[where] && r[where].name, 'MinirankError', `${where}: ${JSON.stringify(r[where])}`);
    assert.equal(r[where].code, 'OutOfMemory', `${where}: ${r[where].message}`);
    assert.match(r[where].message, /memory/);
  }
  assert.equal(r.after, '039058c6');
  assert.deepEqual(problems, []);
});
