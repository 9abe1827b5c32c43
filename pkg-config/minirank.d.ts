// The package's API. The option and result types come from the Rust types (types.d.ts, generated
// and checked by tests/typescript.rs); this file declares what no Rust type describes: the classes,
// the loading options, and the metadata-generic forms of the results.
import type {
  CoreErrorCode, RetrieveOptions, SearchOptions, RerankOptions, PairOptions, Chunking, Bm25Params, IndexLimits,
  Document, Candidate, RerankedHit, Reranked, SearchResult, FusedHit, FusedResult, CacheStats,
} from './types.js';
import type { Filter } from './filter.js';
export type * from './types.js';
export type * from './filter.js';

/** A model file: a URL (string or URL, fetched) or its bytes. */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

export interface ModelSpec {
  /**
   * The graph (BERT family: input_ids, attention_mask, optional token_type_ids): an ONNX file, or
   * the tract NNEF file `minirank convert` writes from one (it loads several times faster).
   */
  model?: ModelSource;
  /** Hugging Face tokenizer.json. Required when `model` is given. */
  tokenizer?: ModelSource;
  /** Optional config.json, cross-checked against the graph and tokenizer. */
  config?: ModelSource;
  /**
   * Expected SHA-256 (hex): of `model` alone, or of each file. Every file with a digest is checked
   * (code 'IntegrityMismatch') and cached with the Cache API under it, so a reload fetches none of them.
   */
  sha256?: string | { model?: string; tokenizer?: string; config?: string };
  /**
   * A bi-encoder's pooling: 'mean' (the default) or 'cls' (the first token's state: bge, gte), or a
   * sentence-transformers `1_Pooling/config.json` (URL or bytes). Also settable in `config.json`
   * (`"minirank": { "pooling": "cls" }`). An index saved with one pooling is refused by another.
   */
  pooling?: Pooling | ModelSource;
}

/** How a bi-encoder turns its token states into one vector. */
export type Pooling = 'mean' | 'cls';

/**
 * A model file of a Hub repository's `onnx/` folder, as transformers.js names them: 'fp32'
 * (`model.onnx`), 'fp16' (`model_fp16.onnx`, computed in f32), 'q8' (`model_quantized.onnx`), 'int8'
 * (`model_int8.onnx`), 'uint8' (`model_uint8.onnx`), 'q4', 'q4f16', 'bnb4' (`model_q4.onnx`, ...:
 * 4-bit `MatMulNBits`, not supported yet: their load fails with code 'BadModel').
 */
export type Dtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

/**
 * A model on the Hugging Face Hub, or on a host with the same layout (`hubUrl`): `onnx/model*.onnx`,
 * `tokenizer.json`, `config.json` under `{hubUrl}/{id}/resolve/{revision}/`. A string is its `id`.
 * The files are cached with the Cache API under their URLs (under their digests where `sha256`
 * gives them): pin `revision` to a commit to take a new version only when you choose.
 */
export interface HubModel {
  /** 'owner/name', e.g. 'Xenova/ms-marco-MiniLM-L-6-v2'. */
  id: string;
  /** This model's dtype (default: the load's `dtype`, else 'q8'). */
  dtype?: Dtype;
  /** Branch, tag or commit (default: the load's `revision`, else 'main'). */
  revision?: string;
  /** Expected SHA-256 (hex): of the model file alone, or of each file. */
  sha256?: ModelSpec['sha256'];
  /**
   * A bi-encoder's pooling; by default the repository's `1_Pooling/config.json` says (CLS for bge and
   * gte), else 'mean'.
   */
  pooling?: ModelSpec['pooling'];
}

export interface Progress {
  /** 'wasm', 'biEncoder.model', 'biEncoder.tokenizer', ... (downloads), 'compile', 'index'. */
  stage: string;
  loaded: number;
  /** 0 when unknown (no content-length). */
  total: number;
}

export interface LoadOptions extends Abortable {
  /** Defaults to the int8 all-MiniLM-L6-v2 shipped in the package; a string is a Hub id. */
  biEncoder?: ModelSpec | HubModel | string;
  /** Defaults to the int8 minirank-ce cross-encoder shipped in the package; a string is a Hub id. */
  crossEncoder?: ModelSpec | HubModel | string;
  /**
   * Resolve as soon as the bi-encoder is ready, and load the cross-encoder after it (in a
   * `MinirankWorker` pool: in the other workers, while the first answers). Meanwhile `index`,
   * `retrieve`, `searchFused` and a progressive search's fused answer work; `rerank`, `search` and
   * `scorePairs` wait for `crossEncoderReady` (on `Minirank`, `scorePairs` throws 'NoCrossEncoder').
   * Progress of the late part: `crossEncoder.*` and `compile.crossEncoder` stages.
   */
  deferCrossEncoder?: boolean;
  /** The dtype of the Hub models: one for both, or one each (default 'q8'). */
  dtype?: Dtype | { biEncoder?: Dtype; crossEncoder?: Dtype };
  /** Branch, tag or commit of the Hub models (default 'main'). */
  revision?: string;
  /** Where Hub ids are resolved (default 'https://huggingface.co'): a mirror, or your own host with the Hub's layout. */
  hubUrl?: string | URL;
  /**
   * Fetch the default models from here instead of the package's files (a CDN or your own host):
   * `<modelBaseUrl>/bi-encoder/model.nnef.tar`, `…/tokenizer.json`, `…/config.json`, and the same under
   * `cross-encoder/`. They are checked against the package's SHA-256 all the same.
   */
  modelBaseUrl?: string | URL;
  onProgress?: (p: Progress) => void;
  /**
   * Problems that do not stop the load, once per code: the Cache API missing or refusing
   * ('StorageUnavailable') or full ('QuotaExceeded'), so the files will be downloaded again next
   * time. Default: `console.warn`, once per code in the thread.
   */
  onWarning?: (warning: MinirankError) => void;
  /**
   * Cache the model files and the wasm with the Cache API, keyed by SHA-256 (a Hub model's files
   * without digests by their URLs); in Node, in a folder: `MINIRANK_CACHE_DIR`, else
   * `~/.cache/minirank/files` (default true).
   */
  cache?: boolean;
  /**
   * Where the wasm core is (default: the package's, checked against its SHA-256 and cached: the NNEF
   * core, or the ONNX core when a model is an ONNX file). A core given here is used for every model.
   */
  wasm?: string | URL | Uint8Array | ArrayBuffer | WebAssembly.Module | Response;
  /**
   * The int8 linear layers' kernel. 'auto' (default): where the engine has WebAssembly relaxed SIMD
   * (Chromium; not Node 20), the package's relaxed core is fetched instead of the
   * default one, its kernel (14-bit activations, `i32x4.relaxed_dot_i8x16_i7x16_add_s`) checked for
   * exact sums and timed against the SIMD128 one (16-bit activations) on one tile, and the faster is
   * kept: the relaxed one on CPUs with AVX-VNNI. 'simd128': the default core. 'relaxed-simd': the
   * relaxed kernel, or code 'InvalidOption' where the engine cannot run it. The first load in a thread
   * decides for that thread; `int8Kernel()` says which runs.
   */
  int8Kernel?: 'auto' | 'simd128' | 'relaxed-simd';
}

/**
 * A document to index: a string (id "0", "1", ... assigned by the core), or a `Document` whose id
 * may be a number or left out. `metadata` comes back with results; `parent` marks a passage you
 * split yourself (results can be grouped by it, see `parents`).
 */
export type DocumentInput<M = unknown> = string | (Omit<Document, 'id' | 'parent' | 'metadata'> & { id?: string | number; parent?: string | number; metadata?: M });

/**
 * `signal`: an AbortSignal; an aborted call rejects with code 'Aborted'. An aborted `index` leaves
 * the index as it was; an aborted `load` stops its downloads (in a worker: terminates it).
 */
export interface Abortable {
  signal?: AbortSignal;
}

export interface IndexOptions extends Abortable {
  onProgress?: (p: Progress) => void;
  /** Documents embedded between two yields to the event loop (default 64). */
  sliceSize?: number;
}

/** What `rerank` accepts: strings, or objects with `text` (other fields are ignored, so candidates from `retrieve` pass straight in). */
export type CandidateInput<M = unknown> = string | (Omit<Candidate, 'id' | 'parent' | 'metadata'> & { id?: string | number; parent?: string | number; metadata?: M });

/** A candidate from `retrieve` (or a search's pool), its `metadata` typed as indexed. */
export type CandidateOf<M = unknown> = Omit<Candidate, 'id' | 'metadata'> & { id: string; metadata?: M };
/** A reranked hit, its `metadata` typed as indexed. */
export type Hit<M = unknown> = Omit<RerankedHit, 'metadata'> & { metadata?: M };
/** What `rerank` resolves to. */
export type RerankResult<M = unknown> = Omit<Reranked, 'hits'> & { hits: Hit<M>[] };
/** What `search` resolves to: the reranked hits and the stage-1 pool. */
export type SearchOutput<M = unknown> = Omit<SearchResult, 'hits' | 'candidates'> & { hits: Hit<M>[]; candidates: CandidateOf<M>[] };
/** A hit of the fused answer, its `metadata` typed as indexed. */
export type FusedHitOf<M = unknown> = Omit<FusedHit, 'metadata'> & { metadata?: M };
/** What `searchFused` resolves to, and a progressive search's first answer (`stage: 'fused'`). */
export type FusedOutput<M = unknown> = Omit<FusedResult, 'hits' | 'candidates'> & { hits: FusedHitOf<M>[]; candidates: CandidateOf<M>[] };

/** What a candidate source is asked for (`search` / `retrieve` with `source`). */
export interface SourceRequest {
  /** The query. */
  text: string;
  /** The query embedded by this bi-encoder (unit length). */
  vector: Float32Array;
  /** How many candidates: the search's `candidates` (the retrieve's `k`), default 20. */
  k: number;
  /** The call's `filter`, for the source to apply. */
  filter?: Filter;
  /** The bi-encoder that embedded `vector`: a source whose documents another one embedded should refuse it ('SourceModel'). */
  model: { dim: number; fingerprint: number };
  signal?: AbortSignal;
}

/**
 * Stage one on a server: the candidates for a query, each with `text` and `id`, and its cosine as
 * `dense` so that it is not embedded again (minirank/sources has adapters for PostgREST / Supabase
 * and node-postgres). A failure should be a `MinirankError` ('SourceConnection', 'SourceAuth',
 * 'SourceSchema', 'SourceModel'); any other error becomes 'SourceConnection'.
 */
export type RemoteSource<M = unknown> = (request: SourceRequest) => Promise<CandidateInput<M>[]> | CandidateInput<M>[];

/** The options of `search`. */
export interface SearchCallOptions<M = unknown> extends Omit<SearchOptions, 'logits'>, Abortable {
  /**
   * Take stage one from this source instead of the index: the query is embedded here, the
   * source's `candidates` best are reranked here (BM25 computed over them), `filter` goes to the
   * source and `exclude` is applied here. `retrieval`, `hybrid`, `cascade` and `onStage` are refused with it.
   */
  source?: RemoteSource<M>;
  /**
   * Make the search progressive: called with the fused answer (`stage: 'fused'`, before the
   * cross-encoder: one query embedding) as soon as it exists, then with the reranked one
   * (`stage: 'reranked'`, which the call also resolves to). A newer progressive search on the same
   * instance aborts this one if it is still reranking: it rejects with code 'Aborted'. The
   * cross-encoder scores a batch (`batchSize`) at a time, so an abort takes effect within one batch.
   */
  onStage?: (result: FusedOutput<M> | SearchOutput<M>) => void;
}

/**
 * Every `code` a `MinirankError` can carry: the core's, 'BadResponse' (a model URL answered an error
 * status or a web page), and the worker's own: 'Worker' (no Web Workers, a worker that failed to
 * start, or one terminated), 'WorkerLost' (a worker that stopped by itself: crashed, killed, or its
 * wasm trapped; its pending calls reject with it), 'Aborted' (a call whose `signal` was aborted),
 * 'QuotaExceeded' (storage is full), 'StorageUnavailable' (no Cache API or IndexedDB, or blocked) and
 * 'OutOfMemory' (a model load that the page's memory cannot hold).
 */
export type ErrorCode = CoreErrorCode | 'BadResponse' | 'Worker' | 'WorkerLost' | 'Aborted' | 'QuotaExceeded' | 'StorageUnavailable' | 'OutOfMemory' | 'Internal';

export declare class MinirankError extends Error {
  name: 'MinirankError';
  code: ErrorCode;
}

/**
 * The methods that `Minirank` and `MinirankWorker` share, each declared once: as `Minirank` has
 * them; `MinirankWorker` has the same, each resolving to its result (worker.d.ts). Their runtime
 * list, with how each call reaches a worker, is lib/methods.js.
 */
export interface MinirankMethods<M = unknown> {
  /**
   * Embed and index documents. An existing id is replaced; all or nothing. With `setChunking`, long
   * documents become passages `id#0`, `id#1`, ... (parent `id`): the count is of index entries.
   * Yields to the event loop between slices of `sliceSize` documents, so that `onProgress` can
   * repaint a page; an aborted call leaves the index as it was.
   */
  index(docs: DocumentInput<M>[], options?: IndexOptions): Promise<number>;
  /**
   * Index documents with vectors computed elsewhere (by this bi-encoder: on a server, or saved from
   * `embed`): `docs.length × dim` numbers, row by row. No model runs; all or nothing; in order with
   * `index` calls. A worker is posted a copy of the vectors.
   */
  indexVectors(docs: DocumentInput<M>[], vectors: Float32Array | number[]): Promise<number>;
  /** Stage 1, best first. `query` is a text, or a query vector (e.g. from `embed`, length `dim`) for dense retrieval. */
  retrieve(query: string | Float32Array | number[], options?: RetrieveOptions & Abortable & { source?: RemoteSource<M> }): Promise<CandidateOf<M>[]>;
  /**
   * Stage 2 on any candidates (strings, or objects with `text`). In a `MinirankWorker` pool
   * (`workers > 1`), every worker scores a share of the candidates.
   */
  rerank(query: string, candidates: CandidateInput<M>[], options?: RerankOptions & Abortable): Promise<RerankResult<M>>;
  /**
   * Both stages: retrieval (dense, BM25 or hybrid; filtered), optional cascade stages, the
   * cross-encoder, optional signals and parent grouping (`logits` are for `rerank`: a search scores
   * its own pool). In a `MinirankWorker` pool, retrieval runs in the first worker and the
   * cross-encoder in all of them.
   */
  search(query: string, options?: SearchCallOptions<M>): Promise<SearchOutput<M>>;
  /**
   * A search's answer without the cross-encoder: its pool, ordered by the dense and BM25 terms of
   * the fused score (then `signals`, `parents`, `topK`), `stage: 'fused'`. One query embedding;
   * works while the cross-encoder still loads.
   */
  searchFused(query: string, options?: Omit<SearchOptions, 'logits'> & Abortable): Promise<FusedOutput<M>>;
  /**
   * Raw cross-encoder logits for (query, text) pairs, in order; no cache, no sorting. Logits
   * computed here (or elsewhere) can be passed back as `rerank(..., { logits })`.
   */
  scorePairs(query: string, texts: CandidateInput[], options?: PairOptions): Float32Array;
  /** Split long documents into passages when indexing (`null`: keep them whole). */
  setChunking(chunking: Chunking | null): void;
  /** BM25 settings: `k1`, `b`, stop words, stemmer. */
  setBm25(params: Bm25Params): void;
  /** Unit-length embedding of a text. */
  embed(text: string): Float32Array;
  /** Remove a document by id; returns whether it was indexed. */
  remove(id: string | number): boolean;
  /** Whether a document is indexed by this id (whole, or split into passages with this parent id). */
  has(id: string | number): boolean;
  /** Remove every document. */
  clear(): void;
  /** The index as bytes (versioned, checksummed): store it in IndexedDB (`saveIndexToIndexedDB`). */
  saveIndex(): Uint8Array;
  /** Replace the index with saved bytes; returns the number of documents. */
  loadIndex(bytes: Uint8Array | ArrayBuffer): number;
  /** Entries, hits and misses of the cross-encoder score cache. */
  cacheStats(): CacheStats;
  /** Resize the score cache (0 disables it). */
  setCacheCapacity(entries: number): void;
  /** Adding past these throws (CapacityExceeded / DocumentTooLarge) instead of exhausting memory. */
  setLimits(limits: IndexLimits): void;
  /** The limits, and the bytes of wasm memory in use. */
  getLimits(): Required<IndexLimits> & { memoryBytes: number };
}

/** Two-stage search; `M` is the type of the documents' `metadata`, carried to the results. */
export declare class Minirank<M = unknown> {
  static load<M = unknown>(options?: LoadOptions): Promise<Minirank<M>>;
  /** Number of indexed documents. */
  readonly size: number;
  /** Embedding dimension. */
  readonly dim: number;
  /** The bi-encoder's fingerprint (CRC-32 of its ONNX file), as saved indexes and `minirank export`'s tables record it. */
  readonly fingerprint: number;
  /** Resolves once the cross-encoder is loaded: at once, unless `load` had `deferCrossEncoder`; rejects if its load failed. */
  readonly crossEncoderReady: Promise<void>;
  /** Free the wasm memory of this instance. */
  free(): void;
}
/** The methods, declared once in `MinirankMethods`. */
export interface Minirank<M = unknown> extends MinirankMethods<M> {}

/** The cross-encoder alone: rerank candidates from elsewhere without loading the bi-encoder. */
export declare class Scorer {
  static load(
    options?: Pick<LoadOptions, 'crossEncoder' | 'dtype' | 'revision' | 'hubUrl' | 'modelBaseUrl' | 'cache' | 'onProgress' | 'onWarning' | 'wasm' | 'int8Kernel' | 'signal'>,
  ): Promise<Scorer>;
  scorePairs(query: string, texts: CandidateInput[], options?: PairOptions): Float32Array;
  free(): void;
}

/** Where a saved index lives in IndexedDB (defaults: dbName 'minirank', store 'indexes', key 'default'). */
export interface IndexedDBOptions {
  dbName?: string;
  store?: string;
  key?: string;
}

interface SavesIndex {
  readonly size: number;
  saveIndex(): Uint8Array | Promise<Uint8Array>;
  loadIndex(bytes: Uint8Array): number | Promise<number>;
}

/** Save the index of a `Minirank` or `MinirankWorker` to IndexedDB. */
export declare function saveIndexToIndexedDB(mr: SavesIndex, options?: IndexedDBOptions): Promise<{ bytes: number; documents: number; savedAt: number }>;
/** Restore a saved index (null when none); refuses records of another version, size, digest or model (code 'CorruptIndex'). */
export declare function loadIndexFromIndexedDB(mr: SavesIndex, options?: IndexedDBOptions): Promise<{ documents: number; savedAt: number } | null>;
/** Delete a saved index; resolves to whether there was one. */
export declare function deleteIndexFromIndexedDB(options?: IndexedDBOptions): Promise<boolean>;

export declare function initWasm(wasm?: LoadOptions['wasm'], options?: Pick<LoadOptions, 'cache' | 'onProgress' | 'int8Kernel'>): Promise<void>;
/** The int8 kernel of this thread's wasm core (see `LoadOptions.int8Kernel`); null before the first load. */
export declare function int8Kernel(): 'simd128' | 'relaxed-simd' | null;
export declare function sha256(bytes: Uint8Array): Promise<string>;
/** Bytes of the wasm memory in this thread (shared by its instances; 0 before the first load). */
export declare function wasmMemoryBytes(): number;
/**
 * A model file's bytes as a load fetches them: checked against `sha256` and cached under it (Cache
 * API; a folder in Node), or with `byUrl` cached under its URL; a reload reads the cache.
 */
export declare function fetchModelFile(
  src: ModelSource,
  options?: { sha256?: string; byUrl?: boolean; cache?: boolean; stage?: string; onProgress?: (p: Progress) => void },
): Promise<{ bytes: Uint8Array; fromCache: boolean }>;
/** A file of the default models: its path in the package, SHA-256 and size. */
export interface ModelFile { path: string; sha256: string; bytes: number }
/** The default models' files (also in 'minirank/core', which does not carry the files themselves). */
export declare const MODEL_MANIFEST: Record<'biEncoder' | 'crossEncoder', Record<'model' | 'tokenizer' | 'config', ModelFile>>;
/** The default models shipped in the package (`url()`: where the bundler put each file). 'minirank' only. */
export declare const DEFAULT_MODELS: Record<'biEncoder' | 'crossEncoder', Record<'model' | 'tokenizer' | 'config', ModelFile & { url(): URL }>>;
/** The package's wasm core, the default: it reads tract NNEF models only. */
export declare const DEFAULT_WASM: { path: string; sha256: string; bytes: number; url(): URL };
/** The package's second wasm core, which reads ONNX models too; fetched only when a model is ONNX. */
export declare const ONNX_WASM: { path: string; sha256: string; bytes: number; url(): URL };
/** `DEFAULT_WASM` and `ONNX_WASM` built with WebAssembly relaxed SIMD: fetched instead where the engine has it (`LoadOptions.int8Kernel`). */
export declare const RELAXED_WASM: { path: string; sha256: string; bytes: number; url(): URL };
export declare const ONNX_RELAXED_WASM: { path: string; sha256: string; bytes: number; url(): URL };
export default Minirank;
