// Errors and warnings: every failure of the package is a MinirankError with a `code`; a problem
// that does not stop the call (storage that is missing or full) is a warning.

/** An error thrown by minirank (also the class of errors raised inside the wasm core). */
export class MinirankError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'MinirankError';
    this.code = code;
  }

  // Errors thrown by the wasm core are plain `Error`s named 'MinirankError' with a `code`;
  // `instanceof MinirankError` holds for them too.
  static [Symbol.hasInstance](x) {
    return x instanceof Error && x.name === 'MinirankError' && typeof x.code === 'string';
  }
}

/** Throw a MinirankError. */
export function fail(code, message) {
  throw new MinirankError(code, message);
}

/** A storage failure as a MinirankError: 'QuotaExceeded' when storage is full, else 'StorageUnavailable'. */
export function storageError(e, what) {
  const quota = !!e && (e.name === 'QuotaExceededError' || e.code === 22);
  // Chromium aborts a too-large write of an in-memory (private window) profile without a reason
  const why = e ? e.message || String(e) : 'the browser gave no reason; a private window keeps storage in memory, with a small quota';
  return new MinirankError(quota ? 'QuotaExceeded' : 'StorageUnavailable', `${what}: ${quota ? 'storage is full' : 'storage is not available'} (${why})`);
}

const warnedOnce = new Set();

/**
 * A problem that does not stop the call (storage that is missing or full): to `onWarning`, or else
 * `console.warn`, once per code in this thread.
 */
export function warn(onWarning, error) {
  if (onWarning) {
    onWarning(error);
    return;
  }
  if (warnedOnce.has(error.code)) return;
  warnedOnce.add(error.code);
  if (globalThis.console) globalThis.console.warn(`minirank: ${error.message} (code ${error.code})`);
}

/** A reporter for one load: each code once. */
export function warner(onWarning) {
  if (onWarning !== undefined && typeof onWarning !== 'function') fail('InvalidOption', 'invalid option `onWarning`: must be a function');
  const seen = new Set();
  return (error) => {
    if (seen.has(error.code)) return;
    seen.add(error.code);
    warn(onWarning, error);
  };
}
