// Models by Hub id: the package in Node against a local server laid out as the Hugging Face Hub is
// (`/{id}/resolve/{revision}/onnx/model*.onnx`, `tokenizer.json`, `config.json`, and the file list
// at `/api/models/{id}/tree/{revision}/onnx`), serving a tiny BERT cross-encoder and bi-encoder in
// the dtypes the Hub's ONNX repositories ship (tests/fixtures/tiny/dtypes,
// scripts/make_dtype_variants.py). The logits are compared with onnxruntime's on the same files.
//   node --test tests/node/hub.test.mjs        (after scripts/build-wasm.sh)

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

// the cache folder of the package in Node, for this file alone
const cacheDir = await mkdtemp(join(tmpdir(), 'minirank-hub-cache-'));
process.env.MINIRANK_CACHE_DIR = cacheDir;
after(() => rm(cacheDir, { recursive: true, force: true }));

const root = new URL('../../', import.meta.url);
const { Minirank, MinirankError, Scorer } = await import(new URL('pkg/minirank.js', root));
const tiny = new URL('tests/fixtures/tiny/', root);
const bert = JSON.parse(await readFile(new URL('arch/reference.json', tiny), 'utf8')).bert;
const dtypeRef = JSON.parse(await readFile(new URL('dtypes/reference.json', tiny), 'utf8'));

const ce = {
  'onnx/model.onnx': 'arch/bert-ce/model.onnx',
  'onnx/model_fp16.onnx': 'dtypes/model_fp16.onnx',
  'onnx/model_quantized.onnx': 'dtypes/model_quantized.onnx',
  'onnx/model_int8.onnx': 'dtypes/model_int8.onnx',
  'onnx/model_uint8.onnx': 'dtypes/model_uint8.onnx',
  'onnx/model_q4.onnx': 'dtypes/model_q4.onnx',
  'tokenizer.json': 'arch/bert-ce/tokenizer.json',
  'config.json': 'arch/bert-ce/config.json',
};
const REPOS = {
  'test/tiny-ce': ce,
  'test/tiny-bi': { 'onnx/model.onnx': 'arch/bert-bi/model.onnx', 'tokenizer.json': 'arch/bert-bi/tokenizer.json', 'config.json': 'arch/bert-bi/config.json' },
  // a bi-encoder trained with CLS pooling, as sentence-transformers repositories say it (bge, gte)
  'test/tiny-bi-cls': {
    'onnx/model.onnx': 'arch/bert-bi/model.onnx',
    'tokenizer.json': 'arch/bert-bi/tokenizer.json',
    'config.json': 'arch/bert-bi/config.json',
    '1_Pooling/config.json': 'pooling/cls.json',
  },
  'test/no-config': { 'onnx/model.onnx': ce['onnx/model.onnx'], 'tokenizer.json': ce['tokenizer.json'] },
  'test/no-tokenizer': { 'onnx/model.onnx': ce['onnx/model.onnx'] },
};

/** Every path asked for, in order. */
const requests = [];
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  requests.push(path);
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (path.startsWith('/gated/')) return json(401, { error: 'Access to model gated/model is restricted.' });
  if (path.startsWith('/html/')) {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<!doctype html><title>Not here</title>');
  }
  const tree = path.match(/^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)\/onnx$/);
  if (tree) {
    const files = REPOS[tree[1]];
    if (!files) return json(404, { error: 'Repository not found' });
    return json(
      200,
      Object.keys(files)
        .filter((f) => f.startsWith('onnx/'))
        .map((f) => ({ type: 'file', path: f })),
    );
  }
  const file = path.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
  const fixture = file && REPOS[file[1]] && REPOS[file[1]][file[3]];
  if (!fixture) return json(404, { error: 'Entry not found' });
  const bytes = await readFile(new URL(fixture, tiny));
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
  res.end(bytes);
});
server.keepAliveTimeout = 60_000; // longer than a model takes to build between two loads
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const hubUrl = `http://127.0.0.1:${server.address().port}`;
after(() => server.close());

const pairs = bert.pairs;
/** Logits of the reference pairs, one pair per forward pass, as onnxruntime ran them. */
function score(scorer) {
  const out = [];
  for (let i = 0; i < pairs.length; ) {
    const q = pairs[i][0];
    let j = i;
    while (j < pairs.length && pairs[j][0] === q) j++;
    out.push(
      ...scorer.scorePairs(
        q,
        pairs.slice(i, j).map((p) => p[1]),
        { maxLength: bert.max_length, batchSize: 1 },
      ),
    );
    i = j;
  }
  return out;
}

const worst = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

test('each dtype of a Hub repository loads by id and scores as onnxruntime does on the same file', async () => {
  const files = { fp32: 'model.onnx', fp16: 'model_fp16.onnx', q8: 'model_quantized.onnx', int8: 'model_int8.onnx', uint8: 'model_uint8.onnx' };
  for (const [dtype, file] of Object.entries(files)) {
    const stages = new Set();
    const scorer = await Scorer.load({ crossEncoder: 'test/tiny-ce', dtype, hubUrl, onProgress: ({ stage }) => stages.add(stage) });
    const want = dtype === 'fp32' ? bert.logits : dtypeRef.files[file].logits;
    const got = score(scorer);
    const diff = worst(got, want);
    // fp16 is computed in f32 here, in f16 by onnxruntime; of the quantised files minirank keeps
    // the weights and runs them on its int8 kernel (activations 16-bit per row, not 8-bit per
    // tensor), never further from the fp32 model than onnxruntime on the same file
    assert.ok(diff <= (dtype === 'fp32' ? 1e-3 : dtype === 'fp16' ? 5e-3 : 4e-2), `${dtype}: largest logit difference ${diff}`);
    assert.ok(worst(got, bert.logits) <= worst(want, bert.logits) + 2e-3, `${dtype}: ${worst(got, bert.logits)} from fp32`);
    assert.ok(
      ['crossEncoder.model', 'crossEncoder.tokenizer', 'crossEncoder.config'].every((s) => stages.has(s)),
      [...stages].join(),
    );
    assert.ok(requests.includes(`/test/tiny-ce/resolve/main/onnx/${file}`), `${dtype} was fetched from the Hub layout`);
    scorer.free();
  }
});

test('both models by id, a dtype each, a revision, and the default dtype q8', async () => {
  const mr = await Minirank.load({ biEncoder: 'test/tiny-bi', crossEncoder: { id: 'test/tiny-ce', dtype: 'fp16' }, dtype: 'fp32', revision: 'v1.0', hubUrl });
  assert.ok(requests.includes('/test/tiny-bi/resolve/v1.0/onnx/model.onnx'));
  assert.ok(requests.includes('/test/tiny-ce/resolve/v1.0/onnx/model_fp16.onnx'));
  await mr.index(bert.texts.slice(0, 4));
  const { hits, weights } = await mr.search(bert.texts[1], { topK: 2, maxLength: bert.max_length });
  assert.equal(hits.length, 2);
  // a cross-encoder whose config.json gives no fusion weight weighs as much as the cosine
  assert.equal(weights.crossEncoder, 1);
  assert.ok(hits.some((h) => h.contributions.crossEncoder !== 0));
  const given = await mr.search(bert.texts[1], { topK: 2, maxLength: bert.max_length, fusion: { crossEncoder: 0.5 } });
  assert.equal(given.weights.crossEncoder, 0.5);
  mr.free();
  const scorer = await Scorer.load({ crossEncoder: { id: 'test/tiny-ce' }, hubUrl: new URL(hubUrl) });
  assert.ok(requests.includes('/test/tiny-ce/resolve/main/onnx/model_quantized.onnx'), 'q8 by default');
  scorer.free();
  // a repository without config.json loads without it
  (await Scorer.load({ crossEncoder: 'test/no-config', dtype: 'fp32', hubUrl })).free();
});

test("a bi-encoder pools as its repository's 1_Pooling/config.json says, or as `pooling` says", async () => {
  const near = (got, want) => Math.max(...want.map((w, i) => Math.abs(got[i] - w))) <= 1e-4;
  const texts = bert.texts.slice(0, 3);
  const embedded = async (biEncoder) => {
    const mr = await Minirank.load({ biEncoder, crossEncoder: 'test/tiny-ce', dtype: 'fp32', hubUrl });
    try {
      return { vectors: texts.map((t) => Array.from(mr.embed(t))), fingerprint: mr.fingerprint };
    } finally {
      mr.free();
    }
  };
  const cls = await embedded('test/tiny-bi-cls');
  assert.ok(requests.includes('/test/tiny-bi-cls/resolve/main/1_Pooling/config.json'));
  for (const [i, v] of cls.vectors.entries()) assert.ok(near(v, bert.cls_embeddings[i]), `CLS pooling of text ${i}`);
  // a repository without the file pools by mean; `pooling` overrides either way
  const mean = await embedded('test/tiny-bi');
  for (const [i, v] of mean.vectors.entries()) assert.ok(near(v, bert.embeddings[i]), `mean pooling of text ${i}`);
  assert.notEqual(cls.fingerprint, mean.fingerprint, 'an index saved with one pooling is refused by the other');
  const forced = await embedded({ id: 'test/tiny-bi-cls', pooling: 'mean' });
  for (const [i, v] of forced.vectors.entries()) assert.ok(near(v, bert.embeddings[i]));
  // files of one's own: a mode, or the file itself
  const files = (pooling) => ({
    model: new URL('arch/bert-bi/model.onnx', tiny),
    tokenizer: new URL('arch/bert-bi/tokenizer.json', tiny),
    pooling,
  });
  for (const pooling of ['cls', await readFile(new URL('pooling/cls.json', tiny))]) {
    const mr = await Minirank.load({ biEncoder: files(pooling), crossEncoder: 'test/tiny-ce', dtype: 'fp32', hubUrl, cache: false });
    assert.ok(near(Array.from(mr.embed(texts[0])), bert.cls_embeddings[0]));
    mr.free();
  }
  await assert.rejects(
    Minirank.load({
      biEncoder: files(new TextEncoder().encode('{"pooling_mode_max_tokens": true}')),
      crossEncoder: 'test/tiny-ce',
      dtype: 'fp32',
      hubUrl,
      cache: false,
    }),
    (e) => e instanceof MinirankError && e.code === 'BadConfig' && /pooling_mode_max_tokens/.test(e.message),
  );
  await assert.rejects(
    Scorer.load({ crossEncoder: { id: 'test/tiny-ce', pooling: 'cls' }, hubUrl }),
    (e) => e instanceof MinirankError && e.code === 'InvalidOption' && /crossEncoder.pooling/.test(e.message),
  );
});

test('a missing dtype says which dtypes the repository has, and which URL answered', async () => {
  await assert.rejects(
    Scorer.load({ crossEncoder: 'test/tiny-ce', dtype: 'bnb4', hubUrl }),
    (e) =>
      e instanceof MinirankError &&
      e.code === 'BadResponse' &&
      e.message.includes("test/tiny-ce (revision main) has no dtype 'bnb4'") &&
      e.message.includes(`${hubUrl}/test/tiny-ce/resolve/main/onnx/model_bnb4.onnx`) &&
      e.message.includes('has the dtypes fp32, fp16, q8, int8, uint8, q4'),
  );
  // a dtype the repository has but minirank does not run
  await assert.rejects(
    Scorer.load({ crossEncoder: 'test/tiny-ce', dtype: 'q4', hubUrl }),
    (e) => e instanceof MinirankError && e.code === 'BadModel' && /MatMulNBits/.test(e.message),
  );
  await assert.rejects(
    Scorer.load({ crossEncoder: 'test/tiny-bi', dtype: 'q8', hubUrl }),
    (e) => e.code === 'BadResponse' && /has the dtypes fp32$/.test(e.message),
  );
  await assert.rejects(
    Scorer.load({ crossEncoder: 'test/no-tokenizer', dtype: 'fp32', hubUrl }),
    (e) => e.code === 'BadResponse' && e.message.includes('has no tokenizer.json') && e.message.includes('/test/no-tokenizer/resolve/main/tokenizer.json'),
  );
});

test('a gated repository, a web page and a wrong digest are MinirankErrors that name the file', async () => {
  await assert.rejects(
    Scorer.load({ crossEncoder: 'gated/model', hubUrl }),
    (e) =>
      e.code === 'BadResponse' &&
      /HTTP 401/.test(e.message) &&
      /gated or private/.test(e.message) &&
      /crossEncoder\.(model|tokenizer|config): gated\/model/.test(e.message),
  );
  await assert.rejects(Scorer.load({ crossEncoder: 'html/model', hubUrl }), (e) => e.code === 'BadResponse' && /web page/.test(e.message));
  await assert.rejects(
    Scorer.load({ crossEncoder: { id: 'test/tiny-ce', dtype: 'fp16', sha256: '0'.repeat(64) }, hubUrl }),
    (e) => e.code === 'IntegrityMismatch' && /crossEncoder\.model/.test(e.message),
  );
  const sha256 = dtypeRef.files['model_fp16.onnx'].sha256;
  (await Scorer.load({ crossEncoder: { id: 'test/tiny-ce', dtype: 'fp16', sha256 }, hubUrl })).free();
});

test('Hub options are checked before anything is fetched', async () => {
  const before = requests.length;
  const invalid = (options, pattern) => assert.rejects(Scorer.load({ hubUrl, ...options }), (e) => e.code === 'InvalidOption' && pattern.test(e.message));
  await invalid({ crossEncoder: 'not an id' }, /not a Hub model id/);
  await invalid({ crossEncoder: '../etc/passwd' }, /not a Hub model id/);
  await invalid({ crossEncoder: 'test/tiny-ce', dtype: 'fp8' }, /crossEncoder\.dtype.*one of: fp32, fp16, q8/);
  await invalid({ crossEncoder: { id: 'test/tiny-ce', model: 'x.onnx' } }, /unknown option `model`/);
  await invalid({ crossEncoder: 'test/tiny-ce', revision: '' }, /revision/);
  await invalid({ crossEncoder: 'test/tiny-ce', dtype: ['q8'] }, /dtype/);
  await invalid({ crossEncoder: 'test/tiny-ce', hubUrl: 'http://[' }, /hubUrl/);
  // a Hub option with no model given by id is a mistake, not ignored
  await invalid({ dtype: 'fp16' }, /`dtype`: it applies to models given by Hub id/);
  await assert.rejects(Minirank.load({ revision: 'v2' }), (e) => e.code === 'InvalidOption' && /`revision`/.test(e.message));
  assert.equal(requests.length, before);
});

test('a file the repository lacks is remembered as absent: a second load (offline, say) asks for nothing', async () => {
  const options = { biEncoder: 'test/tiny-bi', crossEncoder: 'test/no-config', dtype: 'fp32', revision: 'absent', hubUrl };
  (await Minirank.load(options)).free();
  assert.ok(requests.includes('/test/tiny-bi/resolve/absent/1_Pooling/config.json'));
  assert.ok(requests.includes('/test/no-config/resolve/absent/config.json'));
  const before = requests.length;
  const again = await Minirank.load(options);
  assert.deepEqual(requests.slice(before), [], 'nothing asked for again');
  assert.ok(Math.abs(again.embed(bert.texts[0])[0] - bert.embeddings[0][0]) <= 1e-4, 'still mean pooling');
  again.free();
});

test('in Node the files are kept in a cache folder: a second load fetches none, a damaged one is fetched again', async () => {
  const options = { crossEncoder: 'test/tiny-ce', dtype: 'int8', revision: 'cached', hubUrl };
  const fetched = () => requests.filter((p) => p.startsWith('/test/tiny-ce/resolve/cached/'));
  const first = await Scorer.load(options);
  assert.equal(fetched().length, 3);
  const logits = first.scorePairs(pairs[0][0], [pairs[0][1]], { maxLength: bert.max_length });
  first.free();
  const again = await Scorer.load(options);
  assert.equal(fetched().length, 3, 'nothing fetched again');
  assert.deepEqual(again.scorePairs(pairs[0][0], [pairs[0][1]], { maxLength: bert.max_length }), logits);
  again.free();
  // every entry's bytes damaged: each is detected by the checksum kept with it and fetched again
  const entries = (await readdir(cacheDir)).filter((f) => !f.endsWith('.json'));
  assert.ok(entries.length >= 3, entries.join());
  for (const f of entries) await writeFile(join(cacheDir, f), 'damaged');
  const repaired = await Scorer.load(options);
  assert.equal(fetched().length, 6);
  assert.deepEqual(repaired.scorePairs(pairs[0][0], [pairs[0][1]], { maxLength: bert.max_length }), logits);
  repaired.free();
  // cache: false neither reads nor writes the folder
  await Scorer.load({ ...options, cache: false }).then((s) => s.free());
  assert.equal(fetched().length, 9);
});
