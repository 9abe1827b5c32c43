// A plain webpack 5 build: nothing minirank-specific. webpack emits the wasm and the models
// (`new URL('./…', import.meta.url)` → asset modules) and the worker chunk.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './main.js',
  output: { path: fileURLToPath(new URL('./dist/', import.meta.url)), filename: 'main.js', clean: true },
};
