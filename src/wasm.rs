//! JavaScript bindings (wasm32 only): a thin adapter from JS values to [`Minirank`].
//!
//! No search logic and no option names live here: option objects are read by serde straight
//! into the Rust option structs ([`crate::options`]: unknown fields refused, a bad field named
//! by its camelCase path), and results go back through serde. Every failure is thrown as a JS
//! `Error` whose `name` is `"MinirankError"` and whose `code` is [`Error::code`]. Panics (which
//! should not happen) are reported to the console by `console_error_panic_hook`.

use crate::cross_encoder::PairOptions;
use crate::error::Error;
use crate::model::encoder;
use crate::options::{self, json_type};
use crate::prelude::*;
use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Turn a core error into a thrown JS `Error` with `name` and `code`.
fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("MinirankError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

type JsResult<T> = std::result::Result<T, JsValue>;

fn invalid(name: &'static str, reason: impl Into<String>) -> JsValue {
    to_js(Error::invalid_option(name, reason))
}

fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "array".into()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    }
}

/// A JS value as JSON: `undefined` is `null` at the top and left out inside objects (so
/// `{ topK: undefined }` means "not given"); a number that is not finite becomes the string
/// `"NaN"` / `"Infinity"`, which no numeric field accepts (so the error names the field);
/// typed arrays become arrays. Functions, symbols and bigints are refused, named `name`.
fn json(name: &'static str, v: &JsValue) -> JsResult<Value> {
    if v.is_undefined() || v.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(x) = v.as_f64() {
        return Ok(number(x));
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::String(s));
    }
    if let Some(a) = v.dyn_ref::<js_sys::Float32Array>() {
        return Ok(Value::Array(a.to_vec().into_iter().map(|x| number(x.into())).collect()));
    }
    if Array::is_array(v) {
        let a: &Array = v.unchecked_ref();
        return Ok(Value::Array(a.iter().map(|x| json(name, &x)).collect::<JsResult<_>>()?));
    }
    if v.is_object() && !v.is_function() {
        let mut map = serde_json::Map::new();
        for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
            let value = Reflect::get(v, &key)?;
            if !value.is_undefined() {
                map.insert(key.as_string().unwrap_or_default(), json(name, &value)?);
            }
        }
        return Ok(Value::Object(map));
    }
    Err(invalid(name, format!("is not JSON-compatible: a {} value", type_name(v))))
}

/// A JS number as JSON. JS has one number type: a whole one is an integer (serde's `usize` fields
/// accept only those); one that is not finite is a string, which no numeric field accepts.
fn number(x: f64) -> Value {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if x.fract() == 0.0 && x.abs() <= SAFE {
        return Value::Number((x as i64).into());
    }
    serde_json::Number::from_f64(x).map(Value::Number).unwrap_or_else(|| Value::String(format!("{x}")))
}

/// A document id argument: a non-empty string, or a number (as its decimal text).
fn id_arg(id: &JsValue) -> JsResult<String> {
    let id = options::id(json("id", id)?).map_err(|e| invalid("id", e.to_string()))?;
    if id.is_empty() {
        return Err(invalid("id", "is required"));
    }
    Ok(id)
}

/// An options object as `T` (`undefined`/`null`: the defaults).
fn options<T: Serialize + DeserializeOwned + Default>(v: &JsValue) -> JsResult<T> {
    options::patched("", &T::default(), json("options", v)?).map_err(to_js)
}

/// Give `signals` the current time when it has none (the core has no clock on wasm32).
fn with_now(rerank: &mut RerankOptions) {
    if let Some(s) = &mut rerank.signals {
        s.now = s.now.or_else(|| Some(js_sys::Date::now()));
    }
}

/// The options of `search` / `prepareSearch`.
fn search_options(v: &JsValue) -> JsResult<SearchOptions> {
    let mut o = SearchOptions::from_value(json("options", v)?).map_err(to_js)?;
    with_now(&mut o.rerank);
    Ok(o)
}

/// The options of `rerank` / `prepareRerank`.
fn rerank_options(v: &JsValue) -> JsResult<RerankOptions> {
    let mut o: RerankOptions = options(v)?;
    with_now(&mut o);
    Ok(o)
}

/// Candidates to rerank; those without an id get their position.
fn candidates(v: &JsValue) -> JsResult<Vec<Candidate>> {
    let mut c: Vec<Candidate> = list("candidates", v)?;
    Candidate::number_unnamed(&mut c);
    Ok(c)
}

/// Results to JS as plain objects. Through one JSON text and `JSON.parse`: a field at a time
/// through `serde_wasm_bindgen` was slower by a visible share of a `retrieve` (docs/performance.md,
/// "Measurements behind the code").
fn to_value<T: Serialize>(v: &T) -> JsResult<JsValue> {
    let json = serde_json::to_string(v).map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    js_sys::JSON::parse(&json)
}

/// An array of strings or objects: each string becomes `{ text }`, each object a `T` (its fields
/// checked by serde, a bad one named `name[i].field`).
fn list<T: DeserializeOwned>(name: &'static str, v: &JsValue) -> JsResult<Vec<T>> {
    let Value::Array(items) = json(name, v)? else {
        return Err(invalid(
            name,
            format!("must be an array of strings or {{id, text, ...}} objects, got {}", type_name(v)),
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let item = match item {
                Value::String(text) => serde_json::json!({ "text": text }),
                obj @ Value::Object(_) => obj,
                other => {
                    return Err(invalid(
                        name,
                        format!("item {i} must be a string or an object, got {}", json_type(&other)),
                    ))
                }
            };
            options::from_value(&format!("{name}[{i}]"), item).map_err(to_js)
        })
        .collect()
}

/// Bytes from a `Uint8Array`, `ArrayBuffer` or typed-array view.
fn bytes(name: &'static str, v: &JsValue) -> JsResult<Vec<u8>> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(b).to_vec());
    }
    if js_sys::ArrayBuffer::is_view(v) {
        let view: &Object = v.unchecked_ref();
        let buf = Reflect::get(view, &"buffer".into())?;
        let off = Reflect::get(view, &"byteOffset".into())?.as_f64().unwrap_or(0.0) as u32;
        let len = Reflect::get(view, &"byteLength".into())?.as_f64().unwrap_or(0.0) as u32;
        return Ok(Uint8Array::new_with_byte_offset_and_length(&buf, off, len).to_vec());
    }
    Err(not_bytes(name, v))
}

fn not_bytes(name: &'static str, v: &JsValue) -> JsValue {
    invalid(name, format!("must be a Uint8Array or ArrayBuffer, got {}", type_name(v)))
}

/// One model's files (`model`, `tokenizer`, optional `config`) copied into wasm memory; `names`
/// are theirs in error messages.
struct ModelBytes {
    model: Vec<u8>,
    tokenizer: Vec<u8>,
    config: Option<Vec<u8>>,
    /// A bi-encoder's sentence-transformers `1_Pooling/config.json`.
    pooling: Option<Vec<u8>>,
}

const BI_ENCODER_FILES: [&str; 3] = ["biEncoder.model", "biEncoder.tokenizer", "biEncoder.config"];
const CROSS_ENCODER_FILES: [&str; 3] = ["crossEncoder.model", "crossEncoder.tokenizer", "crossEncoder.config"];

impl ModelBytes {
    /// The error copying `[model, tokenizer, config]` would give, without copying anything.
    fn check(names: [&'static str; 3], values: [&JsValue; 3]) -> JsResult<()> {
        for (i, (name, v)) in names.into_iter().zip(values).enumerate() {
            let optional = i == 2 && (v.is_undefined() || v.is_null());
            if !(optional || v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v)) {
                return Err(not_bytes(name, v));
            }
        }
        Ok(())
    }

    fn copy(names: [&'static str; 3], [model, tokenizer, config]: [&JsValue; 3]) -> JsResult<Self> {
        Ok(Self {
            model: bytes(names[0], model)?,
            tokenizer: bytes(names[1], tokenizer)?,
            config: optional_bytes(names[2], config)?,
            pooling: None,
        })
    }

    fn files(&self) -> ModelFiles<'_> {
        ModelFiles {
            model: &self.model,
            tokenizer: &self.tokenizer,
            config: self.config.as_deref(),
            sha256: None,
            pooling: self.pooling.as_deref(),
        }
    }
}

/// The bi-encoder of `files` (`[model, tokenizer, config]`) and an optional `1_Pooling/config.json`.
fn bi_encoder(files: [&JsValue; 3], pooling: &JsValue) -> JsResult<BiEncoder> {
    let mut bytes = ModelBytes::copy(BI_ENCODER_FILES, files)?;
    bytes.pooling = optional_bytes("biEncoder.pooling", pooling)?;
    BiEncoder::from_bytes(bytes.files()).map_err(to_js)
}

/// [`bytes`], or `None` for `undefined` / `null`.
fn optional_bytes(name: &'static str, v: &JsValue) -> JsResult<Option<Vec<u8>>> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        bytes(name, v).map(Some)
    }
}

fn string(name: &'static str, v: &JsValue) -> JsResult<String> {
    v.as_string().ok_or_else(|| invalid(name, format!("must be a string, got {}", type_name(v))))
}

/// A `Float32Array` or an array of finite numbers.
fn numbers(name: &'static str, v: &JsValue) -> JsResult<Vec<f32>> {
    if let Some(a) = v.dyn_ref::<js_sys::Float32Array>() {
        return Ok(a.to_vec());
    }
    if !Array::is_array(v) {
        return Err(invalid(name, format!("must be a Float32Array or an array of numbers, got {}", type_name(v))));
    }
    options::from_value(name, json(name, v)?).map_err(to_js)
}

/// Lower-case hex SHA-256 of bytes (the package uses `crypto.subtle` when it can, this otherwise).
#[wasm_bindgen(js_name = sha256Hex)]
pub fn sha256_hex(data: JsValue) -> JsResult<String> {
    Ok(crate::integrity::sha256_hex(&bytes("data", &data)?))
}

/// Bytes of this module instance's linear memory (models, index, buffers): what one engine,
/// scorer or worker costs. It only grows; freed memory is reused, not returned.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    (core::arch::wasm32::memory_size(0) * 65536) as f64
}

/// The kernel of this core's int8 linear layers: 'simd128' (16-bit activations,
/// `i32x4.dot_i16x8_s`) or 'relaxed-simd' (14-bit, `i32x4.relaxed_dot_i8x16_i7x16_add_s`; the
/// package's relaxed cores only).
#[wasm_bindgen(js_name = int8Kernel)]
pub fn int8_kernel() -> String {
    match encoder::int8_kernel() {
        encoder::Int8Kernel::Simd128 => "simd128",
        encoder::Int8Kernel::RelaxedSimd => "relaxed-simd",
    }
    .to_owned()
}

/// Chooses [`int8_kernel`] for every model of this core: 'relaxed-simd' only in a relaxed core
/// whose kernel passed [`int8_kernel_self_test`].
#[wasm_bindgen(js_name = setInt8Kernel)]
pub fn set_int8_kernel(name: &str) -> JsResult<()> {
    let kernel = match name {
        "simd128" => encoder::Int8Kernel::Simd128,
        "relaxed-simd" if encoder::RELAXED_AVAILABLE && encoder::relaxed_self_test() => {
            encoder::Int8Kernel::RelaxedSimd
        }
        "relaxed-simd" => {
            return Err(invalid("int8Kernel", "'relaxed-simd' needs a relaxed core whose kernel gives exact sums here"))
        }
        other => return Err(invalid("int8Kernel", format!("must be 'simd128' or 'relaxed-simd', got {other:?}"))),
    };
    encoder::set_int8_kernel(kernel);
    Ok(())
}

/// Whether this core has the relaxed kernel and it gives the exact sums on this engine (random
/// and extreme tiles against the i16 kernel). Engines whose relaxed SIMD was experimental (Node
/// 20's V8, behind a flag) fail it.
#[wasm_bindgen(js_name = int8KernelSelfTest)]
pub fn int8_kernel_self_test() -> bool {
    encoder::RELAXED_AVAILABLE && encoder::relaxed_self_test()
}

/// Runs `reps` products of 64 rows by a layer of MiniLM's shape (384 → 1536) with a kernel
/// ('relaxed-simd' where this core has it, else 'simd128'), for the caller to time (wasm has no
/// clock); the result only keeps the work from being skipped.
#[wasm_bindgen(js_name = timeInt8Kernel)]
pub fn time_int8_kernel(name: &str, reps: u32) -> f32 {
    let relaxed = name == "relaxed-simd" && encoder::RELAXED_AVAILABLE;
    encoder::time_int8_matmul(
        if relaxed { encoder::Int8Kernel::RelaxedSimd } else { encoder::Int8Kernel::Simd128 },
        reps,
    )
}

/// The minirank engine for JavaScript: both models and the index, built from bytes.
#[wasm_bindgen]
pub struct Engine {
    inner: Minirank,
    /// Documents embedded by `embedPending`, not yet in the index.
    staged: Embedded,
    /// Reranks and searches between `prepare*` and `finish`, by id.
    jobs: std::collections::HashMap<u32, Pending>,
    next_job: u32,
}

#[wasm_bindgen]
impl Engine {
    /// `new Engine(biModel, biTokenizer, ceModel, ceTokenizer, biConfig?, ceConfig?, biPooling?)`,
    /// each a `Uint8Array`/`ArrayBuffer` (configs and the bi-encoder's sentence-transformers
    /// `1_Pooling/config.json` optional).
    #[wasm_bindgen(constructor)]
    pub fn new(
        bi_model: JsValue,
        bi_tokenizer: JsValue,
        ce_model: JsValue,
        ce_tokenizer: JsValue,
        bi_config: JsValue,
        ce_config: JsValue,
        bi_pooling: JsValue,
    ) -> JsResult<Engine> {
        let bi = [&bi_model, &bi_tokenizer, &bi_config];
        let ce = [&ce_model, &ce_tokenizer, &ce_config];
        ModelBytes::check(BI_ENCODER_FILES, bi)?;
        ModelBytes::check(CROSS_ENCODER_FILES, ce)?;
        // One model's files in wasm memory at a time, freed once its graph is built: the peak is
        // then one model's bytes, not both.
        let embedder = bi_encoder(bi, &bi_pooling)?;
        let cross_encoder =
            CrossEncoder::from_bytes(ModelBytes::copy(CROSS_ENCODER_FILES, ce)?.files()).map_err(to_js)?;
        let fingerprint = embedder.fingerprint();
        Ok(Engine::with(Minirank::new(embedder, cross_encoder, fingerprint)))
    }

    /// `Engine.biEncoderOnly(biModel, biTokenizer, biConfig?, biPooling?)`: an engine whose cross-encoder
    /// comes later (`setCrossEncoder`), loaded elsewhere meanwhile. It indexes, retrieves and
    /// answers `searchFused` at once, and prepares jobs (`prepareSearch`, `prepareRerank`) whose
    /// texts a `Scorer` elsewhere scores; `rerank`, `search` and `scorePairs` fail with code
    /// 'NoCrossEncoder' until then.
    #[wasm_bindgen(js_name = biEncoderOnly)]
    pub fn bi_encoder_only(
        bi_model: JsValue,
        bi_tokenizer: JsValue,
        bi_config: JsValue,
        bi_pooling: JsValue,
    ) -> JsResult<Engine> {
        let bi = [&bi_model, &bi_tokenizer, &bi_config];
        ModelBytes::check(BI_ENCODER_FILES, bi)?;
        let embedder = bi_encoder(bi, &bi_pooling)?;
        let fingerprint = embedder.fingerprint();
        Ok(Engine::with(Minirank::without_cross_encoder(embedder, fingerprint)))
    }

    /// Give the engine the cross-encoder of a `Scorer` of this module instance (which is used
    /// up: freed in JavaScript, its model moves here).
    #[wasm_bindgen(js_name = setCrossEncoder)]
    pub fn set_cross_encoder(&mut self, scorer: Scorer) {
        self.inner.set_cross_encoder(scorer.model);
    }

    /// Whether the cross-encoder is loaded.
    #[wasm_bindgen(getter, js_name = hasCrossEncoder)]
    pub fn has_cross_encoder(&self) -> bool {
        self.inner.reranker().has_model()
    }

    fn with(inner: Minirank) -> Engine {
        Engine { inner, staged: Embedded::default(), jobs: Default::default(), next_job: 0 }
    }

    /// Number of indexed documents.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// Embedding dimension.
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        self.inner.embedder().dim()
    }

    /// The bi-encoder's fingerprint (CRC-32 of its ONNX file): what saved indexes and
    /// `minirank export`'s tables record of the model that embedded them.
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> u32 {
        self.inner.embedder().fingerprint()
    }

    /// Documents (strings, or `{id?, text, metadata?, parent?}`), ids assigned by the core.
    fn documents(&mut self, docs: &JsValue) -> JsResult<Vec<Document>> {
        let mut docs: Vec<Document> = list("documents", docs)?;
        self.inner.assign_ids(&mut docs, &self.staged);
        Ok(docs)
    }

    /// Embed and index documents (strings, or `{id, text, metadata, parent}`); an existing id is
    /// replaced. All or nothing. Returns the number of index entries written (a long document split
    /// into passages counts each). Progress: embed in slices with `embedPending`, then
    /// `commitPending` (what the package's `index` does).
    pub fn index(&mut self, documents: JsValue) -> JsResult<usize> {
        let docs = self.documents(&documents)?;
        self.inner.add_documents(docs).map_err(to_js)
    }

    /// Index documents with vectors computed elsewhere (a `Float32Array` of `documents.length × dim`
    /// numbers, row by row; each row is scaled to unit length): no model runs. All or nothing.
    #[wasm_bindgen(js_name = indexVectors)]
    pub fn index_vectors(&mut self, documents: JsValue, vectors: JsValue) -> JsResult<usize> {
        let docs = self.documents(&documents)?;
        let vectors = numbers("vectors", &vectors)?;
        self.inner.add_vectors(docs, &vectors).map_err(to_js)
    }

    /// Embed documents into a pending batch without changing the index (for progress between
    /// slices); `commitPending()` adds every pending document at once, `discardPending()` drops them.
    #[wasm_bindgen(js_name = embedPending)]
    pub fn embed_pending(&mut self, documents: JsValue) -> JsResult<usize> {
        let docs = self.documents(&documents)?;
        let embedded = self.inner.embed_documents(docs, &mut |_, _| {}).map_err(to_js)?;
        let n = embedded.len();
        self.staged.append(embedded);
        Ok(n)
    }

    /// Add all pending documents (all or nothing); returns how many.
    #[wasm_bindgen(js_name = commitPending)]
    pub fn commit_pending(&mut self) -> JsResult<usize> {
        let staged = std::mem::take(&mut self.staged);
        let n = staged.len();
        self.inner.insert_embedded(staged).map_err(to_js)?;
        Ok(n)
    }

    /// Drop pending documents.
    #[wasm_bindgen(js_name = discardPending)]
    pub fn discard_pending(&mut self) {
        self.staged = Embedded::default();
    }

    /// Remove a document by id (with its passages, if it was split); returns whether it was indexed.
    pub fn remove(&mut self, id: JsValue) -> JsResult<bool> {
        Ok(self.inner.remove(&id_arg(&id)?))
    }

    /// Whether a document is indexed by this id (whole, or as the parent of its passages).
    pub fn has(&self, id: JsValue) -> JsResult<bool> {
        Ok(self.inner.contains(&id_arg(&id)?))
    }

    /// Remove every document.
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// Unit-length embedding of one text.
    pub fn embed(&self, text: JsValue) -> JsResult<Vec<f32>> {
        let text = string("text", &text)?;
        self.inner.embedder().embed_one(&text).map_err(to_js)
    }

    /// Stage 1 ([`RetrieveOptions`]) → candidates, best first. `query` is a text, or a query
    /// vector (`Float32Array` or number array, e.g. from `embed`) for dense retrieval.
    pub fn retrieve(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let text = query.as_string();
        if text.is_none() && !query.is_instance_of::<js_sys::Float32Array>() && !Array::is_array(&query) {
            return Err(invalid(
                "query",
                format!("must be a string or a query vector (Float32Array), got {}", type_name(&query)),
            ));
        }
        let opts = RetrieveOptions::from_value(json("options", &options)?).map_err(to_js)?;
        let hits = match text {
            Some(text) => self.inner.retrieve_with(&text, &opts),
            None => self.inner.retrieve_vector(&numbers("query", &query)?, &opts),
        };
        to_value(&hits.map_err(to_js)?)
    }

    /// Stage 2 ([`RerankOptions`]) on any candidates (strings, or `{id?, text, score?, dense?,
    /// bm25?, metadata?, parent?}`; other fields are ignored so results of `retrieve` pass
    /// straight in). `logits` (one per candidate, e.g. from `scorePairs` in other workers) skips the model.
    pub fn rerank(&self, query: JsValue, candidates: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        let (opts, cands) = (rerank_options(&options)?, self::candidates(&candidates)?);
        to_value(&self.inner.rerank(&query, &cands, &opts).map_err(to_js)?)
    }

    /// Raw cross-encoder logits for `(query, text)` pairs, in order (`Float32Array`); no cache,
    /// no sorting. Texts are strings or `{ text }` objects. Options: [`PairOptions`].
    #[wasm_bindgen(js_name = scorePairs)]
    pub fn score_pairs(&self, query: JsValue, texts: JsValue, options: JsValue) -> JsResult<Vec<f32>> {
        score_pairs(self.inner.reranker().model().map_err(to_js)?, &query, &texts, &options)
    }

    /// Both stages ([`SearchOptions`]: the pool part and the rerank part in one object).
    pub fn search(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        to_value(&self.inner.search(&query, &search_options(&options)?).map_err(to_js)?)
    }

    /// A search's answer before the cross-encoder ([`SearchOptions`], as `search`): the pool
    /// ordered by the dense and BM25 terms of the fused score; no cross-encoder needed.
    #[wasm_bindgen(js_name = searchFused)]
    pub fn search_fused(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        to_value(&self.inner.search_fused(&query, &search_options(&options)?).map_err(to_js)?)
    }

    /// The first half of `search`, for a pool of workers: everything but the cross-encoder's
    /// forward passes. Returns `{ id, query, texts, options }`: score `texts` against `query`
    /// with `scorePairs(query, texts, options)` (in shards, anywhere), then `finish(id, logits)`.
    #[wasm_bindgen(js_name = prepareSearch)]
    pub fn prepare_search(&mut self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        let pending = self.inner.prepare_search(&query, &search_options(&options)?).map_err(to_js)?;
        self.job(pending)
    }

    /// The first half of `rerank` (as `prepareSearch`).
    #[wasm_bindgen(js_name = prepareRerank)]
    pub fn prepare_rerank(&mut self, query: JsValue, candidates: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        let (opts, cands) = (rerank_options(&options)?, self::candidates(&candidates)?);
        let pending = self.inner.prepare_rerank(&query, &cands, &opts).map_err(to_js)?;
        self.job(pending)
    }

    fn job(&mut self, pending: Pending) -> JsResult<JsValue> {
        #[derive(Serialize)]
        struct Job<'a> {
            id: u32,
            query: &'a str,
            texts: Vec<&'a str>,
            options: PairOptions,
        }
        let id = self.next_job;
        self.next_job = self.next_job.wrapping_add(1);
        let out =
            to_value(&Job { id, query: pending.query(), texts: pending.texts(), options: pending.pair_options() })?;
        self.jobs.insert(id, pending);
        Ok(out)
    }

    /// The second half of `search` / `rerank`: the logits of the job's `texts`, in order. The
    /// job ends here, also when this fails.
    pub fn finish(&mut self, id: u32, logits: JsValue) -> JsResult<JsValue> {
        let pending =
            self.jobs.remove(&id).ok_or_else(|| invalid("id", format!("no prepared search or rerank has id {id}")))?;
        let logits = numbers("logits", &logits)?;
        to_value(&self.inner.finish(pending, &logits).map_err(to_js)?)
    }

    /// Drop a prepared job that will not be finished (e.g. a worker of the pool failed).
    pub fn abandon(&mut self, id: u32) -> bool {
        self.jobs.remove(&id).is_some()
    }

    /// Split documents longer than `maxTokens` into overlapping passages when indexing
    /// ([`Chunking`]), or `null` to keep documents whole.
    #[wasm_bindgen(js_name = setChunking)]
    pub fn set_chunking(&mut self, chunking: JsValue) -> JsResult<()> {
        let c = match json("chunking", &chunking)? {
            Value::Null => None,
            v => Some(options::from_value::<Chunking>("chunking", v).map_err(to_js)?),
        };
        self.inner.set_chunking(c).map_err(to_js)
    }

    /// BM25 settings ([`Bm25Params`]; fields left out keep their value).
    #[wasm_bindgen(js_name = setBm25)]
    pub fn set_bm25(&mut self, params: JsValue) -> JsResult<()> {
        let p = options::patched("bm25", &self.inner.index().bm25_params(), json("bm25", &params)?).map_err(to_js)?;
        self.inner.set_bm25_params(p).map_err(to_js)
    }

    /// The index as bytes (versioned, checksummed), e.g. for IndexedDB.
    #[wasm_bindgen(js_name = saveIndex)]
    pub fn save_index(&self) -> Vec<u8> {
        self.inner.save_index()
    }

    /// Replace the index with saved bytes; refused (index kept) if corrupted or from another model.
    #[wasm_bindgen(js_name = loadIndex)]
    pub fn load_index(&mut self, bytes_: JsValue) -> JsResult<usize> {
        let b = bytes("bytes", &bytes_)?;
        self.inner.load_index(&b).map_err(to_js)
    }

    /// Limits that keep the index within a memory budget ([`IndexLimits`]; fields left out keep
    /// their value). Adding past them throws (code `CapacityExceeded` / `DocumentTooLarge`)
    /// instead of running the page out of memory.
    #[wasm_bindgen(js_name = setLimits)]
    pub fn set_limits(&mut self, limits: JsValue) -> JsResult<()> {
        let l: IndexLimits =
            options::patched("limits", &self.inner.index().limits(), json("limits", &limits)?).map_err(to_js)?;
        l.validate().map_err(to_js)?;
        self.inner.set_limits(l);
        Ok(())
    }

    /// The limits and the index's approximate size: `{ maxDocuments, maxDocumentBytes, memoryBytes }`.
    #[wasm_bindgen(js_name = getLimits)]
    pub fn get_limits(&self) -> JsResult<JsValue> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Usage {
            #[serde(flatten)]
            limits: IndexLimits,
            memory_bytes: usize,
        }
        to_value(&Usage { limits: self.inner.index().limits(), memory_bytes: self.inner.index().memory_bytes() })
    }

    /// `{entries, hits, misses}` of the cross-encoder score cache.
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> JsResult<JsValue> {
        to_value(&self.inner.reranker().cache_stats())
    }

    /// Resize the score cache (0 disables it).
    #[wasm_bindgen(js_name = setCacheCapacity)]
    pub fn set_cache_capacity(&self, entries: JsValue) -> JsResult<()> {
        let n: usize = options::from_value("entries", json("entries", &entries)?).map_err(to_js)?;
        self.inner.reranker().set_cache_capacity(n);
        Ok(())
    }
}

/// The cross-encoder alone, for reranking without an index (candidates from a server, another
/// engine...) and for the extra workers of a pool: `new Scorer(model, tokenizer, config?)`.
#[wasm_bindgen]
pub struct Scorer {
    model: CrossEncoder,
}

#[wasm_bindgen]
impl Scorer {
    #[wasm_bindgen(constructor)]
    pub fn new(model: JsValue, tokenizer: JsValue, config: JsValue) -> JsResult<Scorer> {
        let files = ModelBytes::copy(CROSS_ENCODER_FILES, [&model, &tokenizer, &config])?;
        Ok(Scorer { model: CrossEncoder::from_bytes(files.files()).map_err(to_js)? })
    }

    /// As `Engine.scorePairs`.
    #[wasm_bindgen(js_name = scorePairs)]
    pub fn score_pairs(&self, query: JsValue, texts: JsValue, options: JsValue) -> JsResult<Vec<f32>> {
        score_pairs(&self.model, &query, &texts, &options)
    }
}

fn score_pairs(model: &CrossEncoder, query: &JsValue, texts: &JsValue, options: &JsValue) -> JsResult<Vec<f32>> {
    let query = string("query", query)?;
    let o: PairOptions = self::options(options)?;
    let texts: Vec<Candidate> = list("texts", texts)?;
    let texts: Vec<&str> = texts.iter().map(|c| c.text.as_str()).collect();
    model.score_pairs(&query, &texts, &o).map_err(to_js)
}
