// What every soak run must show (Node side of the checks; the runs are in tests/node and tests/e2e).
import assert from 'node:assert/strict';

/** No unexpected error, every invalid call refused, the seed answers unchanged, memory flat within 5%. */
export function checkSoak(r, calls) {
  assert.deepEqual(r.unexpected, [], 'no unexpected error or result');
  assert.equal(r.refused, Math.floor(calls / 10), 'every invalid call refused with its code');
  assert.deepEqual(r.seedAfter, r.seedBefore, 'the seed answers are the same at the end');
  const first = r.blocks[0].memory;
  const last = r.blocks[r.blocks.length - 1].memory;
  assert.ok(last <= first * 1.05, `wasm memory after the last call ${last} within 5% of after the first block ${first}`);
}
