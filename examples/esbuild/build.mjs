// esbuild bundles the JavaScript but does not follow `new URL('./…', import.meta.url)` (nor the
// worker's), so the package's own files (wasm, models, worker script and the modules it imports)
// are copied next to the bundle, where those URLs point. That copy is the one thing to configure.

import { cpSync } from 'node:fs';
import * as esbuild from 'esbuild';

await esbuild.build({ entryPoints: ['main.js'], bundle: true, format: 'esm', outdir: 'dist' });
cpSync('node_modules/minirank', 'dist', { recursive: true, filter: (p) => !/\.(d\.ts|md)$|package\.json$/.test(p) });
