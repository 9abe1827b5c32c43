// The classes of the API: `Minirank` (both models) and `Scorer` (the cross-encoder alone), over the
// wasm core's `Engine` and `Scorer`. The methods that only call the engine are defined from the
// method table (methods.js).
import { abortError, splitSignal, throwIfAborted } from './abort.js';
import { fail, MinirankError } from './errors.js';
import { buildModels } from './load-core.js';
import { loadFiles } from './load-models.js';
import { defineMethods } from './methods.js';
import { loadingCrossEncoder, progressiveSearch, scoreInBatches, scorePrepared } from './progressive.js';
import { fromSource } from './remote.js';

const LOAD_KEYS = [
  'biEncoder',
  'crossEncoder',
  'deferCrossEncoder',
  'dtype',
  'revision',
  'hubUrl',
  'modelBaseUrl',
  'onProgress',
  'onWarning',
  'cache',
  'wasm',
  'int8Kernel',
  'signal',
];
const BOTH = ['biEncoder', 'crossEncoder'];
const SCORER_KEYS = ['crossEncoder', 'dtype', 'revision', 'hubUrl', 'modelBaseUrl', 'onProgress', 'onWarning', 'cache', 'wasm', 'int8Kernel', 'signal'];

/**
 * Two-stage semantic search in the browser (or Node): bi-encoder retrieval + cross-encoder reranking.
 *
 * `load`, `index`, `retrieve`, `rerank` and `search` take a `signal` (an AbortSignal) in their
 * options: an aborted call rejects with code 'Aborted'. `load` stops its downloads; `index` stops
 * between two slices and leaves the index exactly as it was. On this thread a `search` that has
 * started runs to its end (it is one wasm call); `minirank/worker` skips calls still queued and
 * rejects a running read at once.
 *
 * Besides the methods below, every method of the table in methods.js that `Minirank` does not write
 * itself (`retrieve`, `rerank`, `search`, `scorePairs`, `embed`, ...) calls the engine's method of
 * the same name; minirank.d.ts documents them all.
 */
export class Minirank {
  /** Use `Minirank.load()`. */
  constructor(engine) {
    this._engine = engine;
    this._indexing = Promise.resolve();
    /** Resolves once the cross-encoder is loaded (at once, unless it loads after `load` with `deferCrossEncoder`). */
    this.crossEncoderReady = Promise.resolve();
    this._ceReady = true;
  }

  /**
   * The files of the default models (`{ biEncoder: { model: { url() }, ... }, crossEncoder }`):
   * none here; `Minirank` from 'minirank' has the package's.
   */
  static defaultModels = null;

  /**
   * Load both models (the package's int8 models by default, from 'minirank') and the wasm core.
   * With `deferCrossEncoder`, resolve once the bi-encoder is ready; the cross-encoder keeps loading,
   * and `crossEncoderReady` says when it is.
   * @param {object} [options] `{ biEncoder, crossEncoder, deferCrossEncoder, modelBaseUrl, onProgress, cache = true, wasm }`
   */
  static load(options = {}) {
    return this._load(options, options && options.deferCrossEncoder ? 'background' : 'now');
  }

  /**
   * Load with the cross-encoder 'now' (before resolving), in the 'background' (after), or 'none'
   * (a worker whose pool's other workers hold it: worker-serve.js).
   */
  static async _load(options, crossEncoder) {
    const { onProgress, signal, deferCrossEncoder } = options || {};
    if (deferCrossEncoder !== undefined && typeof deferCrossEncoder !== 'boolean') {
      fail('InvalidOption', 'invalid option `deferCrossEncoder`: must be true or false');
    }
    const roles = crossEncoder === 'now' ? BOTH : ['biEncoder'];
    const { files, core } = await loadFiles(options, LOAD_KEYS, roles, this.defaultModels, BOTH);
    const [bi, ce] = files;
    onProgress && onProgress({ stage: 'compile', loaded: 0, total: 1 });
    const engine = buildModels(core, () =>
      ce
        ? new core.Engine(bi.model, bi.tokenizer, ce.model, ce.tokenizer, bi.config, ce.config, bi.pooling)
        : core.Engine.biEncoderOnly(bi.model, bi.tokenizer, bi.config, bi.pooling),
    );
    onProgress && onProgress({ stage: 'compile', loaded: 1, total: 1 });
    if (signal && signal.aborted) {
      // aborted while the graphs were built: the models are freed
      engine.free();
      throw abortError(signal, 'load');
    }
    const mr = new this(engine);
    if (crossEncoder === 'background') loadingCrossEncoder(mr, mr._addCrossEncoder(options, core));
    if (crossEncoder === 'none') loadingCrossEncoder(mr, Promise.reject(new MinirankError('NoCrossEncoder', 'this worker holds no cross-encoder')));
    return mr;
  }

  /** Load the cross-encoder after the bi-encoder, into the same wasm core, and give it to the engine. */
  async _addCrossEncoder(options, core) {
    const { onProgress } = options;
    const loaded = await loadFiles(options, LOAD_KEYS, ['crossEncoder'], this.constructor.defaultModels, BOTH);
    const [ce] = loaded.files;
    if (loaded.core !== core) {
      fail(
        'InvalidOption',
        'invalid option `deferCrossEncoder`: the two models need different wasm cores (one ONNX, one NNEF): convert one, or load both at once',
      );
    }
    onProgress && onProgress({ stage: 'compile.crossEncoder', loaded: 0, total: 1 });
    const scorer = buildModels(core, () => new core.Scorer(ce.model, ce.tokenizer, ce.config));
    onProgress && onProgress({ stage: 'compile.crossEncoder', loaded: 1, total: 1 });
    if (this._freed) {
      scorer.free();
      fail('NoCrossEncoder', 'the engine was freed before its cross-encoder was loaded');
    }
    this._engine.setCrossEncoder(scorer); // the scorer's model moves into the engine
  }

  /** The steps of a progressive search (progressive.js) on this thread. */
  _stages() {
    const e = this._engine;
    return {
      fused: async (query, options) => e.searchFused(query, options),
      prepare: async (query, options) => e.prepareSearch(query, options),
      ready: () => this.crossEncoderReady,
      score: (job, signal) => scoreInBatches((q, texts, o) => e.scorePairs(q, texts, o), job, signal),
      finish: async (id, logits) => e.finish(id, logits),
      abandon: (id) => e.abandon(id),
    };
  }

  /**
   * A `search` or `rerank` made while the cross-encoder loads: prepared now (`prepare`: the
   * engine's first half), so that it sees the index as it is, and scored once the cross-encoder is there.
   */
  _afterCrossEncoder(prepare, args, signal, name) {
    const e = this._engine;
    const steps = { ...this._stages(), score: (job) => e.scorePairs(job.query, job.texts, job.options) };
    return scorePrepared(e[prepare](...args), steps, signal, name);
  }

  /** Number of indexed documents. */
  get size() {
    return this._engine.size;
  }
  /** Embedding dimension. */
  get dim() {
    return this._engine.dim;
  }
  /** The bi-encoder's fingerprint, as saved indexes and `minirank export`'s tables record it. */
  get fingerprint() {
    return this._engine.fingerprint;
  }

  /**
   * Embed and index documents: strings, or `{ id, text, metadata, parent }` objects. An existing
   * id is replaced. All or nothing. With `setChunking`, long documents become passages
   * `id#0`, `id#1`, ... (parent `id`); the count returned is of index entries. Yields to the event loop between slices of `sliceSize` documents
   * so that `onProgress({stage: 'index', loaded, total})` can repaint a page.
   */
  index(docs, options) {
    return this._inOrder(() => this._indexNow(docs, options));
  }

  /**
   * Run an indexing call after the ones before it. Calls overlap when a page indexes twice without
   * waiting: each runs alone, in order, so that one call's staged documents are never committed
   * or dropped by another.
   */
  _inOrder(run) {
    const done = this._indexing.then(run);
    this._indexing = done.catch(() => {});
    return done;
  }

  /**
   * Index documents with vectors computed elsewhere (by this bi-encoder: on a server, or saved
   * from `embed`): `vectors` is a Float32Array of `docs.length × dim` numbers, row by row. No model
   * runs, so 100,000 documents take seconds. All or nothing; in order with `index` calls.
   */
  indexVectors(docs, vectors) {
    return this._inOrder(() => this._engine.indexVectors(docs, vectors));
  }

  async _indexNow(docs, { onProgress, sliceSize = 64, signal } = {}) {
    throwIfAborted(signal, 'index');
    if (!Array.isArray(docs)) return this._engine.index(docs); // throws the typed error
    if (!Number.isInteger(sliceSize) || sliceSize < 1) fail('InvalidOption', 'invalid option `sliceSize`: must be a whole number of at least 1');
    const total = docs.length;
    onProgress && onProgress({ stage: 'index', loaded: 0, total });
    try {
      for (let i = 0; i < total; i += sliceSize) {
        // an abort between two slices drops what was embedded: the index stays as it was
        throwIfAborted(signal, 'index');
        this._engine.embedPending(docs.slice(i, i + sliceSize));
        onProgress && onProgress({ stage: 'index', loaded: Math.min(i + sliceSize, total), total });
        if (i + sliceSize < total) await new Promise((r) => setTimeout(r, 0));
      }
      throwIfAborted(signal, 'index');
      return this._engine.commitPending();
    } finally {
      this._engine.discardPending();
    }
  }

  /** Free the wasm memory of this instance. */
  free() {
    this._freed = true;
    this._engine.free();
  }
}

// Each method of the table that `Minirank` does not write itself calls the engine's method of the
// same name; a `signal` option is checked first and not passed on (it is the package's, not the
// core's). A call that needs the cross-encoder waits for it while it loads (`deferCrossEncoder`),
// and a `search` with `onStage` is progressive (progressive.js).
defineMethods(Minirank, (name, how) => {
  if (how.own || how.each) return null;
  if (how.signal === undefined) {
    return function (...args) {
      return this._engine[name](...args);
    };
  }
  return async function (...args) {
    const [options, signal] = splitSignal(args[how.signal], name);
    if (how.source && options && options.source !== undefined) return fromSource(this, name, args[0], options, signal);
    if (how.stages && options && options.onStage !== undefined) {
      const { onStage, ...rest } = options;
      return progressiveSearch(this, this._stages(), args[0], rest, onStage, signal);
    }
    args[how.signal] = options;
    if (how.needsCE && !this._ceReady) return this._afterCrossEncoder(how.pooled, args, signal, name);
    return this._engine[name](...args);
  };
});

/**
 * The halves of a `search` or `rerank` whose cross-encoder pairs a `MinirankWorker` pool shares
 * (worker-client.js's `_pooled`; the primary worker answers them, worker-serve.js): `prepareSearch`
 * / `prepareRerank` resolve to `{ id, query, texts, options }`, the pool scores `texts` with
 * `scorePairs(query, texts, options)` in shards, `finish(id, logits)` (the logits of `texts`, in
 * order) resolves as `search` / `rerank` do, and `abandon(id)` drops a job. Functions of a
 * `Minirank`, not methods: they are no part of the API.
 */
export const POOL_STEPS = Object.freeze({
  prepareSearch: (mr, query, options) => mr._engine.prepareSearch(query, splitSignal(options, 'search')[0]),
  prepareRerank: (mr, query, candidates, options) => mr._engine.prepareRerank(query, candidates, splitSignal(options, 'rerank')[0]),
  finish: (mr, id, logits) => mr._engine.finish(id, logits),
  abandon: (mr, id) => mr._engine.abandon(id),
});

/**
 * The cross-encoder alone: for reranking candidates that come from elsewhere (a server, another
 * engine) without downloading the bi-encoder, and for the extra workers of a `MinirankWorker`
 * pool. `await Scorer.load({ crossEncoder, cache, onProgress, wasm })`, then `scorePairs`.
 */
export class Scorer {
  constructor(core) {
    this._core = core;
  }

  /** As `Minirank.defaultModels`. */
  static defaultModels = null;

  static async load(options = {}) {
    const {
      files: [ce],
      core,
    } = await loadFiles(options, SCORER_KEYS, ['crossEncoder'], this.defaultModels);
    return new this(buildModels(core, () => new core.Scorer(ce.model, ce.tokenizer, ce.config)));
  }

  /** As `Minirank.prototype.scorePairs`. */
  scorePairs(query, texts, options) {
    return this._core.scorePairs(query, texts, options);
  }
  /** Free the wasm memory of this scorer. */
  free() {
    this._core.free();
  }
}
