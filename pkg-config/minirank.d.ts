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

/**
 * A document to index. Ids are strings (numbers are converted); strings get ids "0", "1", ...
 * `parent` marks a passage you split yourself (results can be grouped by it, see `parents`).
 */
export type DocumentInput = string | { id?: string | number; text: string; metadata?: Metadata; parent?: string | number };

export interface IndexOptions {
  onProgress?: (p: Progress) => void;
  /** Documents embedded between two yields to the event loop (default 64). */
  sliceSize?: number;
}

/** Where stage-1 candidates come from. */
export type Retrieval = 'dense' | 'bm25' | 'hybrid';

/** How `retrieval: 'hybrid'` fuses the dense and BM25 lists. */
export interface HybridOptions {
  /** 'rrf' (default): w/(rrfK + rank_dense) + (1 − w)/(rrfK + rank_bm25); 'weighted': min–max scaled scores. */
  method?: 'rrf' | 'weighted';
  /** RRF rank constant (default 60). */
  rrfK?: number;
  /** Weight w of the dense list, 0..1 (default 0.5). */
  denseWeight?: number;
  /** How deep each list is read before fusing (default: the number of candidates). */
  depth?: number;
}

/** A filter value: equality (or membership when the field is an array). */
export type FilterScalar = string | number | boolean | null;

/** Conditions on one metadata field. */
export interface FilterCondition {
  eq?: FilterScalar;
  ne?: FilterScalar;
  in?: FilterScalar[];
  nin?: FilterScalar[];
  /** Numbers with numbers, strings with strings (ISO dates compare as strings). */
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  /** Present and not null (true), or absent/null (false). */
  exists?: boolean;
}

/**
 * A metadata filter, applied before scoring: every entry must hold. Keys are field names
 * (dotted for nested fields); a scalar means equality, an array means "one of".
 * `anyOf: [filter, ...]` is an OR, `not: filter` a negation.
 * @example { lang: 'en', year: { gte: 2020 }, tags: ['rust', 'wasm'] }
 */
export type Filter = { anyOf?: Filter[]; not?: Filter } & { [field: string]: FilterScalar | FilterScalar[] | FilterCondition | Filter[] | Filter | undefined };

export interface RetrieveOptions {
  /** How many candidates (default 20). */
  k?: number;
  /** 'hybrid' (default: RRF of the dense and BM25 lists), 'dense' or 'bm25'. A query vector is always dense. */
  retrieval?: Retrieval;
  hybrid?: HybridOptions;
  filter?: Filter;
}

export interface Candidate {
  id: string;
  text: string;
  /** Stage-1 score: cosine (dense), BM25, or the fused hybrid score; or the last cascade stage's. */
  score?: number;
  /** Cosine similarity to the query (a signal of the fused stage-2 score). */
  dense?: number;
  /** BM25 score for the query (a signal of the fused stage-2 score). */
  bm25?: number;
  metadata?: Metadata;
  /** The parent document of a passage. */
  parent?: string;
}

/** What `rerank` accepts: strings or objects with `text` (other fields are ignored). */
export type CandidateInput = string | { id?: string | number; text: string; score?: number; dense?: number; bm25?: number; metadata?: Metadata; parent?: string | number };

/**
 * Weights of the fused stage-2 score `dense·z(cosine) + bm25·z(BM25) + crossEncoder·z(logit)`,
 * each signal z-normalised over the candidates of the query. Each 0..100, at least one above 0;
 * weights left out keep their default. `{ dense: 0, bm25: 0, crossEncoder: 1 }` ranks by the
 * cross-encoder alone.
 */
export interface Fusion {
  /** Weight of the cosine similarity (default 1). */
  dense?: number;
  /** Weight of BM25 (default 1). */
  bm25?: number;
  /** Weight of the cross-encoder logit (default 0.25). */
  crossEncoder?: number;
}

/** What each signal added to a hit's fused score (weight × z-score); they sum to `fused`. */
export interface Contributions {
  dense: number;
  bm25: number;
  crossEncoder: number;
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
  /**
   * Weights of the fused score hits are ordered by. Candidates without `dense` / `bm25` get them
   * computed (from the index, or from their text).
   */
  fusion?: Fusion;
}

/** Options of `rerank` beyond the shared ones. */
export interface RerankCallOptions extends RerankOptions, SignalOptions {
  /**
   * Cross-encoder logits computed elsewhere (e.g. `scorePairs` in other workers), one per
   * candidate in order: the model and the score cache are skipped.
   */
  logits?: Float32Array | number[];
}

/** Options of `scorePairs`. */
export interface ScorePairsOptions {
  batchSize?: number;
  maxLength?: number;
}

/** Freshness from a timestamp field: Unix milliseconds or an ISO-8601 string. */
export interface FreshnessSignal {
  /** Metadata field (dotted path), default 'updatedAt'. */
  field?: string;
  /** Age in days at which freshness is 0.5 (default 30). */
  halfLifeDays?: number;
  /** 'hyperbolic' (default): 1/(1 + age/halfLife); 'exponential': 0.5^(age/halfLife). */
  decay?: 'hyperbolic' | 'exponential';
  /** Weight in the final score (default 0.15). */
  weight?: number;
  /** Freshness of documents without a readable timestamp, 0..1 (default 0). */
  missing?: number;
}

/** Authority per value of a field (e.g. the source). */
export interface AuthoritySignal {
  /** Metadata field (dotted path), default 'source'. */
  field?: string;
  /** Authority per value, e.g. { docs: 1, blog: 0.6, slack: 0.3 }. */
  weights?: Record<string, number>;
  /** Authority of other values and of documents without the field (default 0.5). */
  default?: number;
  /** Weight in the final score (default 0.15). */
  weight?: number;
}

/** Diversity: maximal marginal relevance over bi-encoder vectors, and/or a cap per parent. */
export interface DiversitySignal {
  /** Penalty weight on the highest cosine similarity to a result ranked above (default 0.1; 0 = off). */
  weight?: number;
  /** At most this many results per parent document. */
  maxPerParent?: number;
}

/**
 * Multi-signal reranking: final = relevance·w + freshness·w_f + authority·w_a − redundancy·w_d,
 * with relevance = sigmoid(logit) (or of the fused score). Each hit reports its `components`.
 */
export interface Signals {
  /** Weight of the cross-encoder relevance (default 1). */
  relevance?: number;
  freshness?: FreshnessSignal;
  authority?: AuthoritySignal;
  diversity?: DiversitySignal;
  /** "Now" in Unix milliseconds (default Date.now()). */
  now?: number;
}

/** How parent documents are scored from their passages. */
export type ParentScore = 'max' | 'sum';

/** A middle stage: re-score the pool cheaply and keep the best `keep`. */
export interface CascadeStage {
  scorer: 'dense' | 'bm25';
  keep: number;
}

export interface SignalOptions {
  signals?: Signals;
  /** One hit per parent document ('max': best passage; 'sum': sum of passage scores). */
  parents?: ParentScore;
}

export interface SearchOptions extends RerankOptions, SignalOptions {
  /** Stage 1 pool size (default 20). `topK` (default 5) may not exceed it. */
  candidates?: number;
  /** 'hybrid' (default: RRF of the dense and BM25 lists), 'dense' or 'bm25'. A query vector is always dense. */
  retrieval?: Retrieval;
  hybrid?: HybridOptions;
  /** Middle stages, sizes shrinking from `candidates` to at least `topK`, e.g. [{ scorer: 'dense', keep: 10 }]. */
  cascade?: CascadeStage[];
  filter?: Filter;
}

/** Splitting long documents into passages when indexing. */
export interface Chunking {
  /** Most tokens per passage (default 200; at most the embedding model's budget). */
  maxTokens?: number;
  /** Sentences repeated at the start of the next passage (default 1). */
  overlapSentences?: number;
}

export interface Bm25Params {
  /** Term-frequency saturation (default 1.2). */
  k1?: number;
  /** Length normalisation 0..1 (default 0.75). */
  b?: number;
  /** Drop English stop words (default true). */
  stopWords?: boolean;
  /** Reduce words to their stem: 'english' (Snowball; the default) or null (none). */
  stemmer?: 'english' | null;
}

/** The parts of a hit's final score, with `signals`. */
export interface Components {
  relevance: number;
  freshness?: number;
  authority?: number;
  /** Highest cosine similarity to a result ranked above. */
  redundancy?: number;
  final: number;
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
  /** Cosine similarity to the query, when known. */
  dense: number | null;
  /** BM25 score for the query, when known. */
  bm25: number | null;
  /** The fused score hits are ordered by: the sum of `contributions`. */
  fused: number;
  /** What each signal added to `fused`. */
  contributions: Contributions;
  /** With `signals`: the parts of the final score. */
  components?: Components;
  /** The parent document of a passage. */
  parent?: string;
  /** With `parents`: this document's passages among the results, best first (`text` is the best one's). */
  passages?: string[];
  /** With `parents`: the score parents are ordered by. */
  parentScore?: number;
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
  /** With `cascade`: the ids each stage kept. */
  cascade?: string[][];
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
  /** Stage 1. `query` is a text, or a query vector (e.g. from `embed`, length `dim`) for dense retrieval. */
  retrieve(query: string | Float32Array | number[], options?: RetrieveOptions): Promise<Candidate[]>;
  rerank(query: string, candidates: CandidateInput[], options?: RerankCallOptions): Promise<Reranked>;
  search(query: string, options?: SearchOptions): Promise<SearchResult>;
  /** Raw cross-encoder logits for (query, text) pairs, in order; no cache, no sorting. */
  scorePairs(query: string, texts: CandidateInput[], options?: ScorePairsOptions): Float32Array;
  /** Split long documents into passages when indexing (`null`: keep them whole). */
  setChunking(chunking: Chunking | null): void;
  setBm25(params: Bm25Params): void;
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

/** The cross-encoder alone: rerank candidates from elsewhere without loading the bi-encoder. */
export declare class Scorer {
  static load(options?: { crossEncoder?: ModelSpec; cache?: boolean; onProgress?: (p: Progress) => void; wasm?: LoadOptions['wasm'] }): Promise<Scorer>;
  scorePairs(query: string, texts: CandidateInput[], options?: ScorePairsOptions): Float32Array;
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

export declare function initWasm(wasm?: LoadOptions['wasm']): Promise<void>;
export declare function sha256(bytes: Uint8Array): Promise<string>;
/** Bytes of the wasm memory in this thread (shared by its instances; 0 before the first load). */
export declare function wasmMemoryBytes(): number;
export declare function fetchModelFile(
  src: ModelSource,
  options?: { sha256?: string; cache?: boolean; stage?: string; onProgress?: (p: Progress) => void },
): Promise<{ bytes: Uint8Array; fromCache: boolean }>;
export declare const DEFAULT_MODELS: {
  biEncoder: Record<'model' | 'tokenizer' | 'config', { path: string; sha256: string; bytes: number }>;
  crossEncoder: Record<'model' | 'tokenizer' | 'config', { path: string; sha256: string; bytes: number }>;
};
export default Minirank;
