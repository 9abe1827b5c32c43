// The JavaScript examples of README.md and docs/*.md, run against the built npm package (pkg/), so
// that they cannot drift from the API.
//   node --test tests/node/docs.test.mjs        (after scripts/build-wasm.sh)
//
// Every ```js block is written to a temporary .mjs file whose imports of 'minirank',
// 'minirank/worker', 'minirank/core', 'minirank/core/worker', 'minirank/sources', 'minirank/precache' and
// 'minirank/service-worker' point at pkg/, and run with node from the repository root; it must exit
// 0. Blocks for the browser (Web Workers, IndexedDB, service workers, URLs on a host) are fenced
// ```js browser, and blocks not meant to run ```js ignore: those are skipped.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const SKIP = new Set(['browser', 'ignore']);

/** Where each import of the package resolves: the built files in pkg/. */
const ENTRIES = {
  minirank: 'pkg/minirank.js',
  'minirank/worker': 'pkg/worker.js',
  'minirank/core': 'pkg/core.js',
  'minirank/core/worker': 'pkg/core-worker.js',
  'minirank/sources': 'pkg/sources.js',
  'minirank/precache': 'pkg/precache.js',
  'minirank/service-worker': 'pkg/service-worker.js',
};

/** The fenced ```js blocks of a markdown text: `{ line, flags, code }`. */
export function jsBlocks(markdown) {
  const blocks = [];
  let current = null;
  markdown.split('\n').forEach((text, i) => {
    const fence = text.trimStart();
    if (current) {
      if (fence.startsWith('```')) {
        blocks.push(current);
        current = null;
      } else current.lines.push(text);
      return;
    }
    if (!fence.startsWith('```')) return;
    const [lang, ...flags] = fence
      .slice(3)
      .trim()
      .split(/[\s,]+/);
    if (lang === 'js' || lang === 'javascript') current = { line: i + 1, flags, lines: [] };
    else current = { line: i + 1, flags: ['other'], lines: [], other: true }; // ```sh, ```text, a bare ``` ...
  });
  assert.equal(current, null, 'a code block is not closed');
  return blocks.filter((b) => !b.other).map(({ line, flags, lines }) => ({ line, flags, code: lines.join('\n') }));
}

/** The block with its package imports pointed at pkg/. */
export function pointAtPackage(code) {
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(minirank(?:\/[\w/-]+)?)\2/g, (_all, head, quote, name) => {
    const file = ENTRIES[name];
    assert.ok(file, `unknown import ${name}`);
    return `${head}${quote}${new URL(file, root).href}${quote}`;
  });
}

const files = [
  'README.md',
  ...(await readdir(new URL('docs/', root)))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const runnable = [];
for (const file of files) {
  for (const block of jsBlocks(await readFile(new URL(file, root), 'utf8'))) {
    if (!block.flags.some((f) => SKIP.has(f))) runnable.push({ file, ...block });
  }
}

test('the extractor reads js fences and their flags', () => {
  const md = 'a\n```js\nconst x = 1;\n```\n```js browser\nnew Worker()\n```\n```\nls\n```\n  ```js ignore\n  y\n  ```\n';
  assert.deepEqual(
    jsBlocks(md).map((b) => [b.line, b.flags.join(), b.code]),
    [
      [2, '', 'const x = 1;'],
      [5, 'browser', 'new Worker()'],
      [11, 'ignore', '  y'],
    ],
  );
  assert.equal(pointAtPackage("import { Minirank } from 'minirank';").includes(new URL('pkg/minirank.js', root).href), true);
  assert.equal(pointAtPackage('import { MinirankWorker } from "minirank/worker";').includes('pkg/worker.js'), true);
});

test('the docs have runnable examples', () => {
  assert.ok(runnable.length >= 3, `found ${runnable.length}: ${runnable.map((b) => `${b.file}:${b.line}`).join(', ')}`);
  assert.ok(
    runnable.some((b) => b.file === 'README.md'),
    'the README quick start runs',
  );
});

const dir = await mkdtemp(join(tmpdir(), 'minirank-docs-'));
const built = existsSync(new URL('pkg/minirank.js', root));
after(() => rm(dir, { recursive: true, force: true }));

for (const block of runnable) {
  test(`${block.file}:${block.line} runs`, { timeout: 300_000, skip: built ? false : 'pkg/ is not built (scripts/build-wasm.sh)' }, async () => {
    const path = join(dir, `${block.file.replace(/[^\w]/g, '_')}_${block.line}.mjs`);
    await writeFile(path, pointAtPackage(block.code));
    const run = spawnSync(process.execPath, [path], { cwd: fileURLToPath(root), encoding: 'utf8', timeout: 280_000 });
    assert.equal(
      run.status,
      0,
      `${block.file}:${block.line} exited ${run.status}${run.signal ? ` (${run.signal})` : ''}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
    );
  });
}
