// The package exports exactly what its TypeScript declarations say, read with the TypeScript
// compiler from the built package (pkg/):
//   - every entry point of package.json's `exports` that has `types`: the names its module exports
//     at run time are the value exports of its .d.ts (interfaces and type aliases have no runtime
//     value; neither has a name re-exported with `export type`, which the compiler is asked about);
//   - the classes: their public methods at run time are the declared ones, and the method table
//     (lib/methods.js) lists exactly the methods that `MinirankMethods` declares for both classes.
// A helper that leaks out, or a declared export or method that is missing, fails.
//   node --test tests/node/exports.test.mjs        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const pkg = new URL('../../pkg/', import.meta.url);
const manifest = JSON.parse(await readFile(new URL('package.json', pkg), 'utf8'));
/** `[subpath, { types, default }]` of every entry point with declarations. */
const entries = Object.entries(manifest.exports).filter(([, target]) => typeof target === 'object' && target.types && target.default);

const options = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ES2022,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: [],
};
const probePath = fileURLToPath(new URL('__exports_probe__.ts', pkg));

/** A program of one TypeScript file, `source`, beside the package's files (it is never written). */
function compile(source) {
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === probePath ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  const program = ts.createProgram([probePath], options, host);
  return { program, checker: program.getTypeChecker(), file: program.getSourceFile(probePath) };
}

const modules = entries.map(([, target], i) => ({ name: `m${i}`, types: target.types, js: target.default }));
const imports = modules.map((m) => `import * as ${m.name} from ${JSON.stringify(m.js)};`).join('\n');

/** The names each entry's .d.ts exports as values: those the compiler lets this file use as values. */
function declaredValues() {
  const { program, checker } = compile(imports);
  const candidates = modules.map((m) => {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(fileURLToPath(new URL(m.types, pkg))));
    assert.ok(symbol, `${m.types} is not a module`);
    return checker
      .getExportsOfModule(symbol)
      .filter((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value)
      .map((s) => s.name);
  });
  // one line per candidate: a name re-exported with `export type` is an error on its line
  const uses = modules.flatMap((m, i) => candidates[i].map((name) => ({ i, name, line: `${m.name}.${name};` })));
  const probe = compile(`${imports}\n${uses.map((u) => u.line).join('\n')}\n`);
  const firstUse = modules.length;
  const refused = new Set();
  for (const d of ts.getPreEmitDiagnostics(probe.program)) {
    assert.equal(d.file && d.file.fileName, probePath, ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    assert.ok(line >= firstUse, `the probe's imports: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    refused.add(uses[line - firstUse]);
  }
  return modules.map((_, i) =>
    uses
      .filter((u) => u.i === i && !refused.has(u))
      .map((u) => u.name)
      .sort(),
  );
}

test('each entry point exports exactly the values its .d.ts declares', async () => {
  const subpaths = entries.map(([subpath]) => subpath);
  assert.deepEqual(subpaths, ['.', './worker', './core', './core/worker', './sources', './precache', './service-worker'], 'the entry points with declarations');
  const declared = declaredValues();
  for (const [i, m] of modules.entries()) {
    const runtime = Object.keys(await import(new URL(m.js, pkg))).sort();
    assert.deepEqual(runtime, declared[i], `${subpaths[i]} (${m.js}) against ${m.types}`);
  }
  // the test sees type-only re-exports: core.d.ts re-exports all of minirank.d.ts with `export type`
  assert.ok(declared[0].includes('DEFAULT_MODELS') && !declared[2].includes('DEFAULT_MODELS'));
});

/** The public members of a class at run time that are functions: its prototype chain's, less `_` ones. */
function runtimeMethods(cls) {
  const names = new Set();
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (name !== 'constructor' && !name.startsWith('_') && typeof d.value === 'function') names.add(name);
    }
  }
  return [...names].sort();
}

test('the classes have exactly their declared methods, and the method table lists the shared ones', async () => {
  const { program, checker, file } = compile(imports);
  /** The names of the members of `type` that can be called. */
  const callable = (type) =>
    type
      .getProperties()
      .filter((p) => checker.getTypeOfSymbolAtLocation(p, file).getCallSignatures().length > 0)
      .map((p) => p.name)
      .sort();
  /** The declared type (a class's instances, an interface) of the export `name` of a .d.ts. */
  const exportOf = (types, name) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(fileURLToPath(new URL(types, pkg))));
    const symbol = checker.getExportsOfModule(module).find((s) => s.name === name);
    assert.ok(symbol, `${types} declares no ${name}`);
    return checker.getDeclaredTypeOfSymbol(symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  };
  const main = await import(new URL('minirank.js', pkg));
  const worker = await import(new URL('worker.js', pkg));
  for (const [cls, types] of [
    [main.Minirank, './minirank.d.ts'],
    [main.Scorer, './minirank.d.ts'],
    [worker.MinirankWorker, './worker.d.ts'],
  ]) {
    assert.deepEqual(runtimeMethods(cls), callable(exportOf(types, cls.name)), `${cls.name}: its methods against ${types}`);
  }
  const { METHODS } = await import(new URL('lib/methods.js', pkg));
  const shared = Object.keys(METHODS)
    .filter((name) => !METHODS[name].each)
    .sort();
  assert.deepEqual(shared, callable(exportOf('./minirank.d.ts', 'MinirankMethods')), 'the table against MinirankMethods');
  for (const name of Object.keys(METHODS)) {
    assert.equal(typeof worker.MinirankWorker.prototype[name], 'function', `MinirankWorker#${name}`);
    assert.equal(typeof main.Minirank.prototype[name], METHODS[name].each ? 'undefined' : 'function', `Minirank#${name}`);
  }
});
