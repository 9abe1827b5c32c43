import type {
  LoadOptions, DocumentInput, IndexOptions, RetrieveOptions, Candidate, CandidateInput,
  RerankOptions, Reranked, SearchOptions, SearchResult, Chunking, Bm25Params, SignalOptions,
} from './minirank.js';

export interface WorkerLoadOptions extends LoadOptions {
  /** URL of worker-entry.js if it is served from elsewhere. */
  workerUrl?: string | URL;
}

/** The Minirank API in a Web Worker: every method returns a promise. */
export declare class MinirankWorker {
  static load(options?: WorkerLoadOptions): Promise<MinirankWorker>;
  /** Documents indexed, as of the last answered call. */
  readonly size: number;
  readonly dim: number;
  index(docs: DocumentInput[], options?: IndexOptions): Promise<number>;
  retrieve(query: string, options?: RetrieveOptions): Promise<Candidate[]>;
  rerank(query: string, candidates: CandidateInput[], options?: RerankOptions & SignalOptions): Promise<Reranked>;
  search(query: string, options?: SearchOptions): Promise<SearchResult>;
  embed(text: string): Promise<Float32Array>;
  remove(id: string | number): Promise<boolean>;
  clear(): Promise<void>;
  saveIndex(): Promise<Uint8Array>;
  loadIndex(bytes: Uint8Array | ArrayBuffer): Promise<number>;
  cacheStats(): Promise<{ entries: number; hits: number; misses: number }>;
  setCacheCapacity(entries: number): Promise<void>;
  setLimits(limits: { maxDocuments?: number; maxDocumentBytes?: number }): Promise<void>;
  getLimits(): Promise<{ maxDocuments: number; maxDocumentBytes: number; memoryBytes: number }>;
  setChunking(chunking: Chunking | null): Promise<void>;
  setBm25(params: Bm25Params): Promise<void>;
  terminate(): void;
}
export default MinirankWorker;
