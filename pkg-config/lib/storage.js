// Persistence: the index in IndexedDB, so that a reload does not embed everything again.
import { fail, MinirankError, storageError } from './errors.js';
import { sha256 } from './fetch-cache.js';
import { checkKeys } from './options.js';
import { toBytes } from './platform.js';

const IDB_FORMAT = 'minirank-index';
const IDB_VERSION = 1;
const IDB_DEFAULTS = { dbName: 'minirank', store: 'indexes', key: 'default' };

function idbOptions(options) {
  checkKeys(options, Object.keys(IDB_DEFAULTS), 'options');
  const o = { ...IDB_DEFAULTS, ...(options || {}) };
  for (const k of Object.keys(IDB_DEFAULTS)) {
    if (typeof o[k] !== 'string' || !o[k]) fail('InvalidOption', `invalid option \`${k}\`: must be a non-empty string`);
  }
  if (!globalThis.indexedDB)
    fail('StorageUnavailable', 'IndexedDB is not available here (Node, a private window, or storage disabled): the index is not saved');
  return o;
}

function idbRequest(req, what) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storageError(req.error, `IndexedDB: ${what}`));
    // another tab holds an older version of the database open
    req.onblocked = () => reject(new MinirankError('StorageUnavailable', `IndexedDB: ${what}: blocked by another tab that has the database open`));
  });
}

/** A store in a transaction; every failure is a MinirankError ('QuotaExceeded', 'StorageUnavailable'). */
async function idbStore(o, mode) {
  let open;
  try {
    open = globalThis.indexedDB.open(o.dbName, 1);
  } catch (e) {
    throw storageError(e, `IndexedDB: could not open ${o.dbName}`);
  }
  open.onupgradeneeded = () => open.result.createObjectStore(o.store);
  const db = await idbRequest(open, `could not open ${o.dbName}`);
  if (!db.objectStoreNames.contains(o.store)) {
    db.close();
    fail('StorageUnavailable', `IndexedDB database ${o.dbName} has no store ${o.store}`);
  }
  const tx = db.transaction(o.store, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => {
      db.close();
      resolve();
    };
    tx.onerror = tx.onabort = () => {
      db.close();
      reject(storageError(tx.error, `IndexedDB: the ${mode} of ${o.key} failed`));
    };
  });
  done.catch(() => {}); // awaited by the caller; a request's own error may come first
  return { store: tx.objectStore(o.store), tx, done };
}

/**
 * Save the index of `mr` (a `Minirank` or a `MinirankWorker`) to IndexedDB under `key`.
 * Resolves to `{ bytes, documents, savedAt }`. The record is one `put` in one transaction, so a
 * failed save (storage full: code 'QuotaExceeded') leaves the record saved before whole.
 */
export async function saveIndexToIndexedDB(mr, options) {
  const o = idbOptions(options);
  const bytes = await mr.saveIndex();
  const record = {
    format: IDB_FORMAT,
    version: IDB_VERSION,
    size: bytes.byteLength,
    sha256: await sha256(bytes),
    documents: mr.size,
    savedAt: Date.now(),
    bytes,
  };
  const { store, tx, done } = await idbStore(o, 'readwrite');
  try {
    store.put(record, o.key);
  } catch (e) {
    try {
      tx.abort();
    } catch {
      /* already over */
    }
    throw storageError(e, `IndexedDB: ${o.key} could not be saved`);
  }
  await done;
  return { bytes: record.size, documents: record.documents, savedAt: record.savedAt };
}

/**
 * Restore an index saved by `saveIndexToIndexedDB` into `mr`. Resolves to
 * `{ documents, savedAt }`, or `null` when nothing is saved under `key`. A record of another
 * format version, of the wrong size or digest, or built with another embedding model is refused
 * with a `MinirankError` (code 'CorruptIndex') and the current index is kept.
 */
export async function loadIndexFromIndexedDB(mr, options) {
  const o = idbOptions(options);
  const { store, done } = await idbStore(o, 'readonly');
  const record = await idbRequest(store.get(o.key), `could not read ${o.key}`);
  await done;
  if (record === undefined) return null;
  if (!record || record.format !== IDB_FORMAT) fail('CorruptIndex', `index bytes rejected: the IndexedDB record ${o.key} is not a minirank index`);
  if (record.version !== IDB_VERSION)
    fail('CorruptIndex', `index bytes rejected: record version ${record.version} is not supported (this package reads ${IDB_VERSION})`);
  const bytes = toBytes(record.bytes);
  if (!bytes || bytes.byteLength !== record.size)
    fail('CorruptIndex', `index bytes rejected: expected ${record.size} bytes, found ${bytes ? bytes.byteLength : 0}`);
  if ((await sha256(bytes)) !== record.sha256) fail('CorruptIndex', 'index bytes rejected: the stored digest does not match the bytes');
  const documents = await mr.loadIndex(bytes);
  return { documents, savedAt: record.savedAt };
}

/** Delete a saved index; resolves to whether there was one. */
export async function deleteIndexFromIndexedDB(options) {
  const o = idbOptions(options);
  const { store, done } = await idbStore(o, 'readwrite');
  const existed = (await idbRequest(store.getKey(o.key), `could not read ${o.key}`)) !== undefined;
  store.delete(o.key);
  await done;
  return existed;
}
