// minirank/precache: the list of the package's runtime files against the built package (pkg/), and
// its precache entries.
//   node --test tests/node/precache.test.mjs        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../../pkg/', import.meta.url));
const { PRECACHE_FILES, precacheEntries } = await import(`${pkg}precache.js`);
const { DEFAULT_WASM, MODEL_MANIFEST, ONNX_RELAXED_WASM, ONNX_WASM, RELAXED_WASM } = await import(`${pkg}manifest.js`);

test("every file's SHA-256 and size are the file's", () => {
  for (const f of PRECACHE_FILES) {
    const bytes = readFileSync(pkg + f.path);
    assert.equal(f.sha256, createHash('sha256').update(bytes).digest('hex'), f.path);
    assert.equal(f.bytes, bytes.length, f.path);
  }
});

test('the list holds every file the package runs from, and nothing else', () => {
  const paths = PRECACHE_FILES.map((f) => f.path);
  assert.deepEqual(paths, [...paths].sort(), 'sorted by path');
  const js = readdirSync(pkg).filter((n) => n.endsWith('.js') && !['precache.js', 'precache-files.js', 'service-worker.js'].includes(n));
  const lib = readdirSync(`${pkg}lib`).map((n) => `lib/${n}`);
  const models = Object.values(MODEL_MANIFEST).flatMap((files) => Object.values(files).map((m) => m.path.slice(2)));
  const wasm = [DEFAULT_WASM, ONNX_WASM, RELAXED_WASM, ONNX_RELAXED_WASM].map((w) => w.path.slice(2));
  assert.deepEqual(paths, [...js, ...lib, ...models, ...wasm].sort());
  assert.ok(paths.includes('worker-entry.js') && paths.includes('core-worker-entry.js') && paths.includes('minirank_core_onnx.js'));
  // the digests the package itself checks at load
  const byPath = Object.fromEntries(PRECACHE_FILES.map((f) => [f.path, f]));
  for (const m of [DEFAULT_WASM, ONNX_WASM, RELAXED_WASM, ONNX_RELAXED_WASM, ...Object.values(MODEL_MANIFEST).flatMap((files) => Object.values(files))]) {
    assert.equal(byPath[m.path.slice(2)].sha256, m.sha256, m.path);
  }
  assert.deepEqual(
    PRECACHE_FILES.filter((f) => f.group === 'onnx').map((f) => f.path),
    ['minirank_core_onnx.js', 'minirank_core_onnx_bg.wasm'],
  );
  assert.deepEqual(
    PRECACHE_FILES.filter((f) => f.group.endsWith('-relaxed')).map((f) => [f.group, f.path]),
    [
      ['onnx-relaxed', 'minirank_core_onnx_relaxed_bg.wasm'],
      ['core-relaxed', 'minirank_core_relaxed_bg.wasm'],
    ],
  );
  assert.ok(Object.isFrozen(PRECACHE_FILES) && Object.isFrozen(PRECACHE_FILES[0]));
});

test('precacheEntries: `{ url, revision, integrity }` under the base given; ONNX core left out unless asked, models unless refused', () => {
  const entries = precacheEntries('/assets/minirank');
  assert.equal(entries.length, PRECACHE_FILES.length - 4);
  for (const e of entries) {
    assert.deepEqual(Object.keys(e), ['url', 'revision', 'integrity']);
    const f = PRECACHE_FILES.find((x) => `/assets/minirank/${x.path}` === e.url);
    assert.ok(f, e.url);
    assert.equal(e.revision, f.sha256);
    assert.equal(
      e.integrity,
      `sha256-${createHash('sha256')
        .update(readFileSync(pkg + f.path))
        .digest('base64')}`,
    );
  }
  assert.equal(precacheEntries('https://cdn.example.com/m/', { onnx: true }).length, PRECACHE_FILES.length - 2);
  assert.equal(precacheEntries('https://cdn.example.com/m/', { onnx: true, relaxed: true }).length, PRECACHE_FILES.length);
  const relaxed = precacheEntries('/', { relaxed: true }).map((e) => e.url);
  assert.ok(relaxed.includes('/minirank_core_relaxed_bg.wasm') && !relaxed.includes('/minirank_core_onnx_relaxed_bg.wasm'));
  assert.throws(
    () => precacheEntries('/', { relaxed: 'yes' }),
    (e) => e.code === 'InvalidOption' && /relaxed/.test(e.message),
  );
  assert.ok(precacheEntries('https://cdn.example.com/m/', { onnx: true }).some((e) => e.url === 'https://cdn.example.com/m/minirank_core_onnx_bg.wasm'));
  const noModels = precacheEntries('/', { models: false });
  assert.equal(noModels.length, PRECACHE_FILES.filter((f) => f.group === 'core').length);
  assert.ok(noModels.every((e) => !e.url.startsWith('/models/')));
  assert.throws(
    () => precacheEntries(),
    (e) => e.name === 'MinirankError' && e.code === 'InvalidOption' && /base/.test(e.message),
  );
  assert.throws(
    () => precacheEntries('/m/', { onyx: true }),
    (e) => e.code === 'InvalidOption' && /onyx/.test(e.message),
  );
});
