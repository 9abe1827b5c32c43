import type {
  Abortable, LoadOptions, DocumentInput, IndexOptions, RetrieveOptions, CandidateOf, CandidateInput, RerankOptions, PairOptions,
  RerankResult, SearchOptions, SearchOutput, Chunking, Bm25Params, IndexLimits, CacheStats,
} from './minirank.js';

export interface WorkerLoadOptions extends LoadOptions {
  /** URL of the worker script if it is served from elsewhere (worker-entry.js; core-worker-entry.js for minirank/core/worker). */
  workerUrl?: string | URL;
  /**
   * Workers in all, 1..16, or 'auto' (the default: `autoWorkers()`, half the cores from 2 to 4, 1 on a
   * single core, fewer on devices with 4 GB of memory or less). The extra ones hold only the
   * cross-encoder (its own wasm memory each: `memoryBytes()`), build it while the first builds its models, and
   * score a share of every `rerank` / `search` in parallel. An extra worker that
   * stops is replaced, and its share of a call in flight is scored by the first worker; if the first
   * worker stops, every pending call rejects with code 'WorkerLost' (Web Locks detect it).
   */
  workers?: number | 'auto';
}

/** The pool size `workers: 'auto'` picks for this device (or for the `navigator`-like object given). */
export declare function autoWorkers(nav?: { hardwareConcurrency?: number; deviceMemory?: number }): number;

/** The Minirank API in a Web Worker: every method returns a promise. */
export declare class MinirankWorker<M = unknown> {
  static load<M = unknown>(options?: WorkerLoadOptions): Promise<MinirankWorker<M>>;
  /** Documents indexed, as of the last answered call. */
  readonly size: number;
  readonly dim: number;
  index(docs: DocumentInput<M>[], options?: IndexOptions): Promise<number>;
  indexVectors(docs: DocumentInput<M>[], vectors: Float32Array | number[]): Promise<number>;
  /** Stage 1. `query` is a text, or a query vector (e.g. from `embed`, length `dim`) for dense retrieval. */
  retrieve(query: string | Float32Array | number[], options?: RetrieveOptions & Abortable): Promise<CandidateOf<M>[]>;
  rerank(query: string, candidates: CandidateInput<M>[], options?: RerankOptions & Abortable): Promise<RerankResult<M>>;
  scorePairs(query: string, texts: CandidateInput[], options?: PairOptions): Promise<Float32Array>;
  /** Workers in the pool. */
  readonly workers: number;
  search(query: string, options?: Omit<SearchOptions, 'logits'> & Abortable): Promise<SearchOutput<M>>;
  embed(text: string): Promise<Float32Array>;
  remove(id: string | number): Promise<boolean>;
  clear(): Promise<void>;
  saveIndex(): Promise<Uint8Array>;
  loadIndex(bytes: Uint8Array | ArrayBuffer): Promise<number>;
  cacheStats(): Promise<CacheStats>;
  setCacheCapacity(entries: number): Promise<void>;
  setLimits(limits: IndexLimits): Promise<void>;
  getLimits(): Promise<Required<IndexLimits> & { memoryBytes: number }>;
  /** Bytes of wasm memory of each worker: this one first, then the pool's others. */
  memoryBytes(): Promise<number[]>;
  setChunking(chunking: Chunking | null): Promise<void>;
  setBm25(params: Bm25Params): Promise<void>;
  terminate(): void;
}
export default MinirankWorker;
