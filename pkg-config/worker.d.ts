import type { LoadOptions, MinirankMethods } from './minirank.js';

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

/** The methods of `T`, each resolving to its result: `MinirankWorker`'s forms of `Minirank`'s methods. */
export type Promised<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K] };

/** The Minirank API in a Web Worker: every method returns a promise. */
export declare class MinirankWorker<M = unknown> {
  static load<M = unknown>(options?: WorkerLoadOptions): Promise<MinirankWorker<M>>;
  /** Documents indexed, as of the last answered call. */
  readonly size: number;
  readonly dim: number;
  /** The bi-encoder's fingerprint (CRC-32 of its ONNX file), as saved indexes and `minirank export`'s tables record it. */
  readonly fingerprint: number;
  /** Resolves once the cross-encoder is loaded: at once, unless `load` had `deferCrossEncoder` (then when every worker of the pool that scores has it). */
  readonly crossEncoderReady: Promise<void>;
  /** Workers in the pool. */
  readonly workers: number;
  /** Bytes of wasm memory of each worker: this one first, then the pool's others. */
  memoryBytes(): Promise<number[]>;
  /** Stop the worker (and the pool's other workers) and free their memory. */
  terminate(): void;
}
/** `Minirank`'s methods (`MinirankMethods`, declared once), each resolving to its result. */
export interface MinirankWorker<M = unknown> extends Promised<MinirankMethods<M>> {}
export default MinirankWorker;
