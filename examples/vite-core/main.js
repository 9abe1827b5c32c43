// 'minirank/core': the same API without the default models in the build. The models come from
// where you host them (`modelBaseUrl`: bi-encoder/… and cross-encoder/… under it, the files of
// node_modules/minirank/models/; here the app's own /models/), checked against the package's
// SHA-256 and cached like the defaults. Or pass your own `biEncoder` / `crossEncoder`.
import { Minirank } from 'minirank/core';
import { MinirankWorker } from 'minirank/core/worker';
import { runPage } from './shared/app.js';

runPage({ Minirank, MinirankWorker, options: { modelBaseUrl: '/models/' } });
