/** A model file: a URL (string or URL, fetched) or its bytes. */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

export interface ModelSpec {
  /** ONNX graph (BERT family: input_ids, attention_mask, optional token_type_ids). */
  model?: ModelSource;
  /** Hugging Face tokenizer.json. Required when `model` is given. */
  tokenizer?: ModelSource;
  /** Optional config.json, cross-checked against the graph and tokenizer. */
  config?: ModelSource;
  /** Expected SHA-256 (hex) of `model`: checked, and the key under which it is cached. */
  sha256?: string;
}

export interface Progress {
  /** 'biEncoder.model' | 'biEncoder.tokenizer' | ... (downloads), 'compile', 'index'. */
  stage: string;
  loaded: number;
  /** 0 when unknown (no content-length). */
  total: number;
}

export interface LoadOptions {
  /** Defaults to the int8 all-MiniLM-L6-v2 shipped in the package. */
  biEncoder?: ModelSpec;
  /** Defaults to the int8 minirank-ce cross-encoder shipped in the package. */
  crossEncoder?: ModelSpec;
  onProgress?: (p: Progress) => void;
  /** Cache model bytes with the Cache API, keyed by SHA-256 (default true). */
  cache?: boolean;
  /** Where the wasm core is (default: next to this module). */
  wasm?: string | URL | Uint8Array | ArrayBuffer | WebAssembly.Module | Response;
}

export type Metadata = unknown;

/** A document to index. Ids are strings (numbers are converted); strings get ids "0", "1", ... */
export type DocumentInput = string | { id?: string | number; text: string; metadata?: Metadata };

export interface IndexOptions {
  onProgress?: (p: Progress) => void;
  /** Documents embedded between two yields to the event loop (default 64). */
  sliceSize?: number;
}

export interface RetrieveOptions {
  /** How many candidates (default 20). */
  k?: number;
}

export interface Candidate {
  id: string;
  text: string;
  /** Cosine similarity to the query (stage 1), when it came from `retrieve`. */
  score?: number;
  metadata?: Metadata;
}

/** What `rerank` accepts: strings or objects with `text` (other fields are ignored). */
export type CandidateInput = string | { id?: string | number; text: string; score?: number; metadata?: Metadata };

export interface Fusion {
  /** Cross-encoder weight: alpha·z(logit) + (1 − alpha)·z(retrieval score), 0..1. */
  alpha: number;
}

export interface RerankOptions {
  /** Keep at most this many (default: all). More than there are candidates means all. */
  topK?: number;
  /** Pairs per forward pass, 1..256 (default 16). */
  batchSize?: number;
  /** Tokens per (query, document) pair; the document is truncated first (default 256). */
  maxLength?: number;
  /** Drop hits whose `score` (sigmoid of the logit) is below this, 0..1. */
  minScore?: number;
  /** Order by a blend of cross-encoder and retrieval scores (every candidate needs `score`). */
  fusion?: Fusion;
}

export interface SearchOptions extends RerankOptions {
  /** Stage 1 pool size (default 20). `topK` (default 5) may not exceed it. */
  candidates?: number;
}

export interface Hit {
  id: string;
  text: string;
  /** Raw cross-encoder logit (uncalibrated; higher is more relevant). */
  logit: number;
  /** sigmoid(logit), 0..1. */
  score: number;
  /** 1-based rank after reranking. */
  rank: number;
  /** 1-based position among the candidates given to the reranker. */
  originalRank: number;
  /** The candidate's stage-1 score, if it had one. */
  retrievalScore: number | null;
  /** The blended score hits are ordered by, with `fusion`. */
  fused?: number;
  metadata?: Metadata;
}

export interface Reranked {
  hits: Hit[];
  /** Candidates were given but none reached `minScore`: say "I don't know". */
  noConfidentAnswer: boolean;
  bestLogit: number | null;
  bestScore: number | null;
  /** Pairs run through the model in this call. */
  scored: number;
  /** Pairs answered from the score cache. */
  cacheHits: number;
}

export interface SearchResult extends Reranked {
  /** Stage 1 candidates, best first. */
  candidates: Candidate[];
}

export declare class MinirankError extends Error {
  name: 'MinirankError';
  /** 'InvalidOption' | 'EmptyInput' | 'EmptyIndex' | 'BadModel' | 'IntegrityMismatch' | ... */
  code: string;
}

export declare class Minirank {
  static load(options?: LoadOptions): Promise<Minirank>;
  readonly size: number;
  readonly dim: number;
  index(docs: DocumentInput[], options?: IndexOptions): Promise<number>;
  retrieve(query: string, options?: RetrieveOptions): Promise<Candidate[]>;
  rerank(query: string, candidates: CandidateInput[], options?: RerankOptions): Promise<Reranked>;
  search(query: string, options?: SearchOptions): Promise<SearchResult>;
  embed(text: string): Float32Array;
  remove(id: string | number): boolean;
  clear(): void;
  saveIndex(): Uint8Array;
  loadIndex(bytes: Uint8Array | ArrayBuffer): number;
  cacheStats(): { entries: number; hits: number; misses: number };
  setCacheCapacity(entries: number): void;
  /** Adding past these throws (CapacityExceeded / DocumentTooLarge) instead of exhausting memory. */
  setLimits(limits: { maxDocuments?: number; maxDocumentBytes?: number }): void;
  getLimits(): { maxDocuments: number; maxDocumentBytes: number; memoryBytes: number };
  free(): void;
}

export declare function initWasm(wasm?: LoadOptions['wasm']): Promise<void>;
export declare function sha256(bytes: Uint8Array): Promise<string>;
export declare function fetchModelFile(
  src: ModelSource,
  options?: { sha256?: string; cache?: boolean; stage?: string; onProgress?: (p: Progress) => void },
): Promise<{ bytes: Uint8Array; fromCache: boolean }>;
export declare const DEFAULT_MODELS: {
  biEncoder: Record<'model' | 'tokenizer' | 'config', { path: string; sha256: string; bytes: number }>;
  crossEncoder: Record<'model' | 'tokenizer' | 'config', { path: string; sha256: string; bytes: number }>;
};
export default Minirank;
