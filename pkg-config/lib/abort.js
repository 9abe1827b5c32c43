// Aborting calls: the `signal` option (an AbortSignal) of `load`, `index`, `retrieve`, `rerank` and
// `search`. An aborted call rejects with code 'Aborted'.
import { fail, MinirankError } from './errors.js';

/** The error of an aborted call: code 'Aborted', with the signal's reason. */
export function abortError(signal, what) {
  const r = signal && signal.reason;
  const why = r === undefined ? '' : `: ${r && r.message ? r.message : String(r)}`;
  return new MinirankError('Aborted', `${what} was aborted${why}`);
}

/** Throw if `signal` (an AbortSignal or undefined) is aborted. */
export function throwIfAborted(signal, what) {
  if (signal === undefined || signal === null) return;
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean') fail('InvalidOption', 'invalid option `signal`: must be an AbortSignal');
  if (signal.aborted) throw abortError(signal, what);
}

/**
 * Options of a core call without `signal` (an AbortSignal is the package's, not the core's):
 * checked first, so that an aborted call does not start.
 */
export function splitSignal(options, what) {
  if (!options || typeof options !== 'object' || !('signal' in options)) return [options, undefined];
  const { signal, ...rest } = options;
  throwIfAborted(signal, what);
  return [rest, signal];
}
