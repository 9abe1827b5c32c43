// Type-checks the package's TypeScript declarations against the documented usage (README):
//   npx tsc -p tests/types        (run by scripts/test.sh in the node step)
// Lines marked @ts-expect-error must NOT compile: they prove the types refuse misspelt options.
import {
  Minirank, MinirankError, Scorer, saveIndexToIndexedDB, loadIndexFromIndexedDB, deleteIndexFromIndexedDB,
  type SearchOptions, type SearchResult, type Filter, type Hit, type Candidate, type ErrorCode,
} from '../../pkg-config/minirank.js';
import { MinirankWorker } from '../../pkg-config/worker.js';

export async function readme(query: string): Promise<Hit[]> {
  const mr = await Minirank.load({ onProgress: ({ stage, loaded, total }) => console.log(stage, loaded, total) });
  mr.setChunking({ maxTokens: 200, overlapSentences: 1 });
  mr.setBm25({ k1: 1.2, b: 0.75, stopWords: true, stemmer: 'english' });
  mr.setBm25({ stemmer: null });
  await mr.index([{ id: 'a', text: 'text', metadata: { year: 2024 } }, 'plain', { id: 'a#0', text: 'passage', parent: 'a' }]);
  const filter: Filter = { lang: 'en', year: { gte: 2020 }, tags: ['rust', 'wasm'], anyOf: [{ draft: false }, { draft: { exists: false } }], not: { source: 'spam' } };
  const options: SearchOptions = {
    retrieval: 'hybrid',
    hybrid: { method: 'rrf', rrfK: 60, denseWeight: 0.5, depth: 100 },
    candidates: 100,
    cascade: [{ scorer: 'dense', keep: 10 }],
    topK: 5,
    minScore: 0.2,
    fusion: { dense: 1, crossEncoder: 0.25 },
    filter,
    signals: {
      relevance: 0.6,
      freshness: { field: 'updatedAt', halfLifeDays: 30, decay: 'hyperbolic', weight: 0.15, missing: 0 },
      authority: { field: 'source', weights: { docs: 1, blog: 0.6 }, default: 0.5, weight: 0.15 },
      diversity: { weight: 0.1, maxPerParent: 2 },
      now: Date.now(),
    },
    parents: 'max',
  };
  const r: SearchResult = await mr.search(query, options);
  const first = r.hits[0];
  const parts: number | undefined = first?.components?.final;
  const passages: string[] | undefined = first?.passages;
  const why: number | undefined = first?.contributions.crossEncoder;
  const fused: number | undefined = first?.fused;
  const cosine: number | null | undefined = first?.dense;
  const bm25Weight: number = r.weights.bm25; // the weight this query used (chosen by its length here)
  await mr.search(query, { fusion: { bm25: null } }); // null: chosen per query, as when left out
  await mr.search(query, { fusion: { bm25: 0.5 } });
  console.log(parts, passages, why, fused, cosine, bm25Weight, r.cascade?.[0]?.length, r.candidates[0]?.parent, r.candidates[0]?.bm25);
  const cands = await mr.retrieve(query, { k: 50, retrieval: 'bm25', filter: { year: { lt: 2000 } }, exclude: ['seen'] });
  const byVector: Candidate[] = await mr.retrieve(mr.embed(query), { k: 5 });
  console.log(byVector[0]?.score);
  await mr.rerank(query, cands, { topK: 5, signals: { diversity: { weight: 0.2 } }, parents: 'sum' });
  const saved = await saveIndexToIndexedDB(mr, { key: 'docs' });
  const restored = await loadIndexFromIndexedDB(mr, { key: 'docs' });
  console.log(saved.bytes, restored?.documents, await deleteIndexFromIndexedDB({ key: 'docs' }));

  const w = await MinirankWorker.load();
  await w.setChunking(null);
  await saveIndexToIndexedDB(w);
  const known: boolean = mr.has('a') && (await w.has(7));
  console.log(known);
  const wr = await w.search(query, { retrieval: 'bm25', parents: 'sum' });
  // a search box: each keystroke aborts the search before it
  const typing = new AbortController();
  await w.search(query, { topK: 3, signal: typing.signal });
  await w.index(['more'], { signal: typing.signal, sliceSize: 16 });
  await MinirankWorker.load({ signal: typing.signal, modelBaseUrl: '/models/' });
  // @ts-expect-error: a signal is an AbortSignal
  await mr.retrieve(query, { signal: true });
  w.terminate();

  // a pool: the cross-encoder in two workers; logits computed anywhere feed rerank
  const pool = await MinirankWorker.load({ workers: 2 });
  const n: number = pool.workers;
  const logits: Float32Array = await pool.scorePairs(query, ['a', { text: 'b' }], { maxLength: 128 });
  await pool.rerank(query, ['a', 'b'], { logits, topK: 1 });
  const scorer = await Scorer.load({ cache: false });
  // models by Hub id, a dtype for both or one each
  await Minirank.load({ crossEncoder: 'Xenova/ms-marco-MiniLM-L-6-v2', biEncoder: 'Xenova/all-MiniLM-L6-v2', dtype: { crossEncoder: 'fp16' }, revision: 'main' });
  await Scorer.load({ crossEncoder: { id: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: 'int8', sha256: { model: 'x' } }, hubUrl: new URL('https://hub.example') });
  // @ts-expect-error: not a dtype the Hub's exports have
  await Scorer.load({ crossEncoder: 'Xenova/ms-marco-MiniLM-L-6-v2', dtype: 'fp8' });
  // a bi-encoder's pooling: by mode, or its 1_Pooling/config.json
  await Minirank.load({ biEncoder: { id: 'BAAI/bge-small-en-v1.5', pooling: 'cls' } });
  await Minirank.load({ biEncoder: { model: '/m/model.onnx', tokenizer: '/m/tokenizer.json', pooling: '/m/1_Pooling/config.json' } });
  // a search's cross-encoder weight, or null for the model's own
  await mr.search('q', { fusion: { crossEncoder: null } });
  const direct: Float32Array = scorer.scorePairs(query, ['a'], { batchSize: 8 });
  await mr.rerank(query, ['a'], { logits: Array.from(direct) });
  scorer.free();
  console.log(n, mr.scorePairs(query, ['a']).length);
  // @ts-expect-error: logits are for rerank, not search
  await mr.search(query, { logits });

  // @ts-expect-error: not a retrieval mode
  await mr.search(query, { retrieval: 'sparse' });
  // @ts-expect-error: unknown option name
  await mr.search(query, { topk: 5 });
  // @ts-expect-error: cascade stages need a scorer
  await mr.search(query, { cascade: [{ keep: 10 }] });
  // @ts-expect-error: parents is 'max' | 'sum'
  await mr.search(query, { parents: 'mean' });
  try {
    await mr.search(query);
  } catch (e) {
    if (e instanceof MinirankError) {
      const code: ErrorCode = e.code;
      if (e.code === 'InvalidOption' || e.code === 'Worker' || e.code === 'WorkerLost' || e.code === 'Aborted') console.log(code);
      // @ts-expect-error: not one of the codes
      if (e.code === 'InvalidOptions') console.log(code);
    }
  }
  return wr.hits;
}

/** Results carry the metadata type the documents were indexed with. */
export async function typedMetadata(): Promise<number | undefined> {
  type Meta = { year: number; tags: string[] };
  const mr = await Minirank.load<Meta>();
  await mr.index([{ id: 1, text: 'numbered id', metadata: { year: 2024, tags: [] } }]);
  // @ts-expect-error: metadata must be a Meta
  await mr.index([{ text: 'wrong metadata', metadata: { year: 'soon' } }]);
  const r = await mr.search('q', { topK: 1 });
  const tags: string[] | undefined = r.hits[0]?.metadata?.tags;
  const pool = await mr.retrieve('q');
  const id: string | undefined = pool[0]?.id;
  console.log(tags, id, (await mr.getLimits()).memoryBytes, (await mr.cacheStats()).entries);
  const w = await MinirankWorker.load<Meta>();
  const wr = await w.rerank('q', pool, { topK: 1 });
  return wr.hits[0]?.metadata?.year;
}

/** Progressive search: the fused answer, then the reranked one, told apart by `stage`. */
export async function progressive(query: string): Promise<string[]> {
  type Meta = { source: string };
  const mr = await Minirank.load<Meta>({ deferCrossEncoder: true });
  const shown: string[] = [];
  const final = await mr.search(query, {
    topK: 3,
    onStage: (r) => {
      if (r.stage === 'fused') {
        // @ts-expect-error: the fused answer has no cross-encoder logit
        shown.push(String(r.hits[0]?.logit));
        shown.push(`${r.hits[0]?.fused} ${r.hits[0]?.metadata?.source}`);
      } else {
        shown.push(`${r.hits[0]?.logit} ${r.noConfidentAnswer}`);
      }
    },
  });
  const stage: 'reranked' = final.stage;
  const fused = await mr.searchFused(query, { topK: 3 });
  const early: 'fused' = fused.stage;
  await mr.crossEncoderReady;
  const w = await MinirankWorker.load<Meta>({ deferCrossEncoder: true, workers: 2 });
  await w.crossEncoderReady;
  const wf = await w.searchFused(query);
  return [...shown, stage, early, wf.stage];
}

// minirank/precache and minirank/service-worker (docs/offline.md)
import { PRECACHE_FILES, precacheEntries, type PrecacheEntry } from '../../pkg-config/precache.js';
import { precacheAndServe } from '../../pkg-config/service-worker.js';

export function offline(): Promise<string> {
  const entries: PrecacheEntry[] = precacheEntries('/minirank/', { onnx: false, models: true });
  const bytes: number = PRECACHE_FILES.filter((f) => f.group !== 'onnx').reduce((sum, f) => sum + f.bytes, 0);
  // @ts-expect-error: a misspelt option is refused
  precacheEntries('/minirank/', { onyx: true });
  // @ts-expect-error: the base is required
  precacheEntries();
  console.log(bytes);
  return precacheAndServe({ version: '1', files: ['/', '/app.js', { url: '/data.json', revision: null }, ...entries] });
}

// minirank/sources: stage one on a server
import { pgSource, postgrestSource } from '../../pkg-config/sources.js';

export async function remote(query: string): Promise<string[]> {
  type Meta = { lang: string };
  const mr = await Minirank.load<Meta>();
  const source = postgrestSource<Meta>({ url: 'https://project.supabase.co/rest/v1', apiKey: 'anon' });
  const r = await mr.search(query, { source, candidates: 50, topK: 5, filter: { lang: 'en' } });
  const pool = await mr.retrieve(query, { source: pgSource<Meta>({ query: async () => ({ rows: [] }) }, { table: 'docs' }), k: 10 });
  const own = await mr.search(query, { source: async ({ text, vector, k }) => [{ id: 'a', text: `${text} ${vector.length} ${k}`, dense: 0.5 }] });
  // @ts-expect-error: a source answers candidates
  await mr.search(query, { source: async () => [42] });
  return [...r.hits.map((h) => h.metadata?.lang ?? ''), ...pool.map((c) => c.id), own.stage];
}
