// Generated from minirank's Rust types by tests/typescript.rs: do not edit.
// MINIRANK_UPDATE_TYPES=1 cargo test --release --test typescript
import type { Filter } from './filter.js';

/** The `code` of a `MinirankError` raised by the core (`Error::code` in Rust). */
export type CoreErrorCode = 'BadModel' | 'ModelSignature' | 'IntegrityMismatch' | 'BadTokenizer' | 'TokenizerMismatch' | 'BadConfig' | 'Inference' | 'Tokenization' | 'EmptyInput' | 'EmptyIndex' | 'NoCrossEncoder' | 'DocumentTooLarge' | 'InvalidOption' | 'DimensionMismatch' | 'DuplicateId' | 'UnknownId' | 'CorruptIndex' | 'CapacityExceeded' | 'Io' | 'Json' | 'SourceConnection' | 'SourceAuth' | 'SourceSchema' | 'SourceModel';

/**
 * Options of `retrieve`: how many candidates, and where they come from.
 */
export interface RetrieveOptions extends CandidateSource {
  /**
   * How many candidates.
   */
  k: number;
}

/**
 * Where candidates come from, for `retrieve` and for a search's pool: the
 * retrieval mode, its hybrid settings and the metadata filter.
 */
export interface CandidateSource {
  /**
   * Dense, BM25 or hybrid; `null`: `DEFAULT_RETRIEVAL` for a query text, dense for a query
   * vector.
   */
  retrieval?: Retrieval | null;
  /**
   * Settings of hybrid retrieval.
   */
  hybrid?: Hybrid;
  /**
   * Metadata filter applied before scoring (see `filter`).
   */
  filter?: Filter | null;
  /**
   * Ids left out of the candidates, e.g. results already shown (the next page) or the document
   * a "more like this" query came from; a split document's passages go with its id.
   */
  exclude?: string[];
}

/**
 * The size of a search's candidate pool and how it is narrowed before the cross-encoder.
 */
export interface PoolOptions {
  /**
   * How many candidates stage 1 retrieves (the pool).
   */
  candidates?: number;
  /**
   * Middle stages between retrieval and the cross-encoder, e.g. 100 → dense 10 → rerank 5.
   */
  cascade?: Stage[];
}

/**
 * Options of `search`: the pool, where its candidates come from, and the rerank
 * part (stage two), one flat object for JavaScript and JSON (`{ candidates, retrieval, topK,
 * fusion, signals, ... }`).
 */
export interface SearchOptions extends PoolOptions, CandidateSource, RerankOptions {
}

/**
 * Where candidates come from.
 */
export type Retrieval = 'dense' | 'bm25' | 'hybrid';

/**
 * Hybrid retrieval settings.
 */
export interface Hybrid {
  /**
   * Fusion method.
   */
  method?: HybridMethod;
  /**
   * RRF's rank constant.
   */
  rrfK?: number;
  /**
   * Weight `w` of the dense list, 0..=1.
   */
  denseWeight?: number;
  /**
   * How deep each list is read before fusing (default: the number of candidates).
   */
  depth?: number | null;
}

/**
 * How hybrid retrieval fuses the dense and BM25 lists.
 */
export type HybridMethod = 'rrf' | 'weighted';

/**
 * A middle stage: re-score the pool with a cheap scorer and keep the best `keep`.
 */
export interface Stage {
  /**
   * What re-scores the pool.
   */
  scorer: StageScorer;
  /**
   * How many candidates go on to the next stage.
   */
  keep: number;
}

/**
 * The scorer of a cascade stage.
 */
export type StageScorer = 'dense' | 'bm25';

/**
 * How to rerank: stage two of `search`, or
 * `rerank` on candidates from anywhere.
 */
export interface RerankOptions {
  /**
   * Keep at most this many results (`null`: all that pass `minScore`).
   * Larger than the number of candidates means all of them.
   */
  topK?: number | null;
  /**
   * Pairs per forward pass (1..=256).
   */
  batchSize?: number;
  /**
   * Token budget per (query, document) pair; the document is truncated first.
   */
  maxLength?: number;
  /**
   * Drop results whose sigmoid score is below this (0..=1), even if fewer than `topK` remain.
   */
  minScore?: number | null;
  /**
   * How the fused ranking score weighs the cross-encoder, cosine and BM25 signals.
   */
  fusion?: Fusion;
  /**
   * Combine relevance with freshness, authority and diversity (applied by the engine, which
   * has the vectors diversity needs).
   */
  signals?: Signals | null;
  /**
   * Return parent documents instead of passages, scored by their passages (applied by the engine).
   */
  parents?: ParentScore | null;
  /**
   * The cross-encoder's logits, one per candidate in order, computed elsewhere (e.g. by
   * `score` on shards of the list in other workers): the model and the score
   * cache are then skipped. Rerank only; a search computes its own.
   */
  logits?: Float32Array | number[];
}

/**
 * Weights of the fused score. Fields left out keep their default; the BM25 weight, left out, is
 * chosen per query from the query's length.
 */
export interface Fusion {
  /**
   * Weight of the bi-encoder's cosine similarity.
   */
  dense?: number;
  /**
   * Weight of the candidate's BM25 score for the query. Left out or null (the default): chosen
   * per query from its number of BM25 terms, 0 for a few words, rising to 0.75 for a
   * descriptive query of 16 to 32 terms, and back to 0 for one as long as a document (the rule
   * is `DEFAULT_ADAPTIVE_BM25` in the Rust crate).
   */
  bm25?: number | null;
  /**
   * Weight of the cross-encoder's logit. Left out or null (the default): the cross-encoder's
   * own, from its `config.json` (`"minirank": {"fusion": {"crossEncoder": w}}`; the shipped
   * cross-encoder says 0), else 1 (`CROSS_ENCODER_WEIGHT`).
   */
  crossEncoder?: number | null;
}

/**
 * The weights one query's fused score used: `Fusion` with the BM25 weight resolved.
 */
export interface Weights {
  /**
   * Weight of the cosine similarity.
   */
  dense: number;
  /**
   * Weight of BM25 (given, or chosen for this query).
   */
  bm25: number;
  /**
   * Weight of the cross-encoder's logit.
   */
  crossEncoder: number;
}

/**
 * What each signal added to one candidate's fused score (its weight times its z-score; 0 for a
 * signal with weight 0 or one that was not available for every candidate).
 */
export interface Contributions {
  /**
   * From the cosine similarity.
   */
  dense: number;
  /**
   * From BM25.
   */
  bm25: number;
  /**
   * From the cross-encoder logit.
   */
  crossEncoder: number;
}

/**
 * Signal weights and settings for one query.
 */
export interface Signals {
  /**
   * Weight of the cross-encoder relevance.
   */
  relevance?: number;
  /**
   * Prefer recent documents.
   */
  freshness?: Freshness | null;
  /**
   * Prefer trusted sources.
   */
  authority?: Authority | null;
  /**
   * Prefer results that add something new.
   */
  diversity?: Diversity | null;
  /**
   * The current time in Unix milliseconds (default: the clock; set it for reproducible runs).
   */
  now?: number | null;
}

/**
 * Freshness from a timestamp in the metadata.
 */
export interface Freshness {
  /**
   * Metadata field (dotted path) with Unix milliseconds or an ISO-8601 date/time.
   */
  field?: string;
  /**
   * Age, in days, at which freshness has fallen to 0.5.
   */
  halfLifeDays?: number;
  /**
   * Decay curve.
   */
  decay?: Decay;
  /**
   * Weight in the final score.
   */
  weight?: number;
  /**
   * Freshness of documents without a readable timestamp.
   */
  missing?: number;
}

/**
 * How freshness decays with age.
 */
export type Decay = 'hyperbolic' | 'exponential';

/**
 * Authority from a categorical field.
 */
export interface Authority {
  /**
   * Metadata field (dotted path) naming the source.
   */
  field?: string;
  /**
   * Authority per field value (0..=1 by convention).
   */
  weights?: Record<string, number>;
  /**
   * Authority of values not in `weights`, and of documents without the field.
   */
  default?: number;
  /**
   * Weight in the final score.
   */
  weight?: number;
}

/**
 * Diversity: an MMR penalty and/or a cap per parent document.
 */
export interface Diversity {
  /**
   * Weight of the redundancy penalty (0 turns MMR off).
   */
  weight?: number;
  /**
   * Keep at most this many results from one parent document.
   */
  maxPerParent?: number | null;
}

/**
 * How parent documents are scored from their passages.
 */
export type ParentScore = 'max' | 'sum';

/**
 * How to split long documents.
 */
export interface Chunking {
  /**
   * Most tokens per passage (special tokens not counted); documents within it stay whole.
   */
  maxTokens?: number;
  /**
   * Sentences repeated at the start of the next passage.
   */
  overlapSentences?: number;
}

/**
 * How to score pairs with `scorePairs` (JavaScript: `scorePairs(query, texts, { batchSize, maxLength })`).
 */
export interface PairOptions {
  /**
   * Pairs per forward pass (1..=`MAX_PAIR_BATCH_SIZE`).
   */
  batchSize?: number;
  /**
   * Token budget per (query, document) pair; the document is truncated first.
   */
  maxLength?: number;
}

/**
 * BM25 settings.
 */
export interface Bm25Params {
  /**
   * Term-frequency saturation (typically 0.9–2.0).
   */
  k1?: number;
  /**
   * Length normalisation, 0 (none) ..= 1 (full).
   */
  b?: number;
  /**
   * Drop common English words when indexing and querying (changing it re-indexes).
   */
  stopWords?: boolean;
  /**
   * Reduce words to their stem when indexing and querying (changing it re-indexes); `null`
   * keeps words as they are (for languages other than English).
   */
  stemmer?: Stemmer | null;
}

/**
 * A stemming algorithm (Snowball).
 */
export type Stemmer = 'english';

/**
 * Limits that keep an index within a memory budget.
 */
export interface IndexLimits {
  /**
   * Most documents the index accepts.
   */
  maxDocuments?: number;
  /**
   * Largest document text, in UTF-8 bytes.
   */
  maxDocumentBytes?: number;
}

/**
 * A document to index: an id, its text, and optional JSON metadata returned with results.
 */
export interface Document {
  /**
   * Unique id (non-empty). In JSON it may be a number, or left out for
   * `assignIds` to fill.
   */
  id?: string;
  /**
   * The text that is embedded and reranked.
   */
  text: string;
  /**
   * Anything JSON; returned untouched with search results.
   */
  metadata?: unknown;
  /**
   * For a passage of a longer document: the id of that document (see `chunk`).
   */
  parent?: string;
}

/**
 * A document to rerank: from the engine's retrieval or from anywhere else.
 */
export interface Candidate {
  /**
   * Id, unique within one rerank call. In JSON it may be a number, or left out (see
   * `numberUnnamed`).
   */
  id?: string;
  /**
   * Text scored against the query.
   */
  text: string;
  /**
   * First-stage score (cosine for dense retrieval), if any.
   */
  score?: number;
  /**
   * Cosine similarity to the query (bi-encoder), when known: a signal of the fused score.
   */
  dense?: number;
  /**
   * BM25 score for the query, when known: a signal of the fused score.
   */
  bm25?: number;
  /**
   * Metadata carried through to the result.
   */
  metadata?: unknown;
  /**
   * The parent document's id, for a passage of a longer document.
   */
  parent?: string;
}

/**
 * One result, before or after the cross-encoder: a hit of a `FusedResult`,
 * and all of a `RerankedHit` but its logit and score.
 */
export interface FusedHit {
  /**
   * Candidate id.
   */
  id: string;
  /**
   * Candidate text.
   */
  text: string;
  /**
   * 1-based rank in the result.
   */
  rank: number;
  /**
   * 1-based position in the candidate list given to stage two.
   */
  originalRank: number;
  /**
   * The candidate's first-stage score.
   */
  retrievalScore: number | null;
  /**
   * The candidate's cosine similarity to the query, when known.
   */
  dense: number | null;
  /**
   * The candidate's BM25 score, when known.
   */
  bm25: number | null;
  /**
   * The fused score the hits are ordered by (see `fusion`): the sum of
   * `contributions` (before the cross-encoder, without its term).
   */
  fused: number;
  /**
   * What each signal added to `fused`.
   */
  contributions: Contributions;
  /**
   * The parts of the final score, when multi-signal reranking is used
   * (see `signals`).
   */
  components?: Components;
  /**
   * The candidate's parent document (a passage of a longer document).
   */
  parent?: string;
  /**
   * When results are grouped by parent: this document's passages among the results, best
   * first (`text` is the best one's).
   */
  passages?: string[];
  /**
   * When results are grouped by parent: the score the parents are ordered by.
   */
  parentScore?: number;
  /**
   * The candidate's metadata.
   */
  metadata?: unknown;
}

/**
 * One reranked result: the fields of a `FusedHit` and the cross-encoder's logit and score.
 */
export interface RerankedHit extends FusedHit {
  /**
   * Raw cross-encoder logit (uncalibrated; higher is more relevant).
   */
  logit: number;
  /**
   * `sigmoid(logit)`, in 0..1.
   */
  score: number;
}

/**
 * Which stage a search result is from. A progressive search gives both, in this order.
 */
export type ResultStage = 'fused' | 'reranked';

/**
 * The parts of a result's final score with multi-signal reranking (see `signals`).
 */
export interface Components {
  /**
   * `sigmoid` of the fused stage-2 score.
   */
  relevance: number;
  /**
   * Freshness in 0..=1, when used.
   */
  freshness?: number;
  /**
   * Authority, when used.
   */
  authority?: number;
  /**
   * Highest cosine similarity to a result ranked above, when MMR is used.
   */
  redundancy?: number;
  /**
   * The weighted sum results are ordered by.
   */
  final: number;
}

/**
 * The outcome of a rerank.
 */
export interface Reranked {
  /**
   * Results, best first.
   */
  hits: RerankedHit[];
  /**
   * True when candidates were given but none reached `minScore`: "I don't know".
   */
  noConfidentAnswer: boolean;
  /**
   * Highest logit among all candidates (also when all were filtered out).
   */
  bestLogit: number | null;
  /**
   * `sigmoid(best_logit)`.
   */
  bestScore: number | null;
  /**
   * Candidates scored by the model in this call (the rest came from the cache).
   */
  scored: number;
  /**
   * Candidates whose logit came from the cache.
   */
  cacheHits: number;
  /**
   * The weights of the fused score for this query (the BM25 weight given, or chosen for the
   * query by the default rule; the cross-encoder's given, or the model's own).
   */
  weights: Weights;
}

/**
 * The result of a two-stage search.
 */
export interface SearchResult extends Reranked {
  /**
   * Always `reranked` (a progressive search's first answer is a `FusedResult`).
   */
  stage: 'reranked';
  /**
   * Stage 1: the retrieved pool, best first, with retrieval scores.
   */
  candidates: Candidate[];
  /**
   * The ids kept by each cascade stage (empty without a cascade).
   */
  cascade?: string[][];
}

/**
 * A search's answer before the cross-encoder (`searchFused`): the same pool as
 * `SearchResult`, ordered by the dense and BM25 terms of the fused score. A progressive search
 * gives it first, then the `SearchResult`.
 */
export interface FusedResult {
  /**
   * Always `fused`.
   */
  stage: 'fused';
  /**
   * Stage 1: the retrieved pool, best first, with retrieval scores.
   */
  candidates: Candidate[];
  /**
   * The ids kept by each cascade stage (empty without a cascade).
   */
  cascade?: string[][];
  /**
   * The top-k by the fused score without its cross-encoder term.
   */
  hits: FusedHit[];
  /**
   * The weights of the fused score for this query (the cross-encoder's is 0).
   */
  weights: Weights;
}

/**
 * What `cacheStats` reports.
 */
export interface CacheStats {
  /**
   * Cached (query, document) logits.
   */
  entries: number;
  /**
   * Lookups answered from the cache.
   */
  hits: number;
  /**
   * Lookups that ran the model.
   */
  misses: number;
}
