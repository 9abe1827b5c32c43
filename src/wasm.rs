//! JavaScript bindings (wasm32 only): a thin adapter from JS values to [`Minirank`].
//!
//! No search logic lives here. Inputs arrive as `JsValue` and are checked with errors that name
//! the parameter; every failure is thrown as a JS `Error` whose `name` is `"MinirankError"` and
//! whose `code` is [`Error::code`]. Panics (which should not happen) are reported to the console
//! by `console_error_panic_hook`.

use crate::error::Error;
use crate::prelude::*;
use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// The JavaScript spelling of an option name.
fn js_name(name: &'static str) -> &'static str {
    match name {
        "top_k" => "topK",
        "batch_size" => "batchSize",
        "max_length" => "maxLength",
        "min_score" => "minScore",
        "hybrid.rrf_k" => "hybrid.rrfK",
        "fusion.cross_encoder" => "fusion.crossEncoder",
        "hybrid.dense_weight" => "hybrid.denseWeight",
        "chunking.max_tokens" => "chunking.maxTokens",
        "chunking.overlap_sentences" => "chunking.overlapSentences",
        other => other,
    }
}

/// Turn a core error into a thrown JS `Error` with `name` and `code`.
fn to_js(e: Error) -> JsValue {
    let e = match e {
        Error::InvalidOption { name, reason } => Error::InvalidOption { name: js_name(name), reason: reason.replace("candidates (", "`candidates` (") },
        other => other,
    };
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("MinirankError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

type JsResult<T> = std::result::Result<T, JsValue>;

fn invalid(name: &'static str, reason: impl Into<String>) -> JsValue {
    to_js(Error::InvalidOption { name, reason: reason.into() })
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
    Err(invalid(name, format!("must be a Uint8Array or ArrayBuffer, got {}", type_name(v))))
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

/// An options object: `undefined`/`null` mean none; unknown keys are refused with their name.
struct Options {
    values: HashMap<String, JsValue>,
}

impl Options {
    fn parse(v: &JsValue, allowed: &[&'static str]) -> JsResult<Self> {
        let mut values = HashMap::new();
        if v.is_undefined() || v.is_null() {
            return Ok(Self { values });
        }
        if !v.is_object() || Array::is_array(v) {
            return Err(invalid("options", format!("must be an object, got {}", type_name(v))));
        }
        let obj: &Object = v.unchecked_ref();
        for key in Object::keys(obj).iter() {
            let key = key.as_string().unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                return Err(invalid("options", format!("unknown option `{key}` (expected one of: {})", allowed.join(", "))));
            }
            let value = Reflect::get(obj, &JsValue::from_str(&key))?;
            if !value.is_undefined() {
                values.insert(key, value);
            }
        }
        Ok(Self { values })
    }

    fn number(&self, name: &'static str) -> JsResult<Option<f64>> {
        match self.values.get(name) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                Some(x) => Err(invalid(name, format!("must be a finite number, got {x}"))),
                None => Err(invalid(name, format!("must be a number, got {}", type_name(v)))),
            },
        }
    }

    /// A whole number >= `min`.
    fn count(&self, name: &'static str, min: usize) -> JsResult<Option<usize>> {
        match self.number(name)? {
            None => Ok(None),
            Some(x) if x.fract() != 0.0 || x < min as f64 || x > u32::MAX as f64 => {
                Err(invalid(name, format!("must be a whole number of at least {min}, got {x}")))
            }
            Some(x) => Ok(Some(x as usize)),
        }
    }
}

const RERANK_KEYS: [&str; 5] = ["topK", "batchSize", "maxLength", "minScore", "fusion"];

fn rerank_options(o: &Options) -> JsResult<RerankOptions> {
    let d = RerankOptions::default();
    let fusion = patched("fusion", &d.fusion, o.values.get("fusion").unwrap_or(&JsValue::UNDEFINED))?;
    Ok(RerankOptions {
        top_k: o.count("topK", 1)?,
        batch_size: o.count("batchSize", 1)?.unwrap_or(d.batch_size),
        max_length: o.count("maxLength", 1)?.unwrap_or(d.max_length),
        min_score: o.number("minScore")?.map(|x| x as f32),
        fusion,
    })
}

/// A nested option object or enum string, read with serde (its own field names are camelCase
/// and unknown ones are refused with their name). It goes through `serde_json::Value` because
/// serde-wasm-bindgen reads only the fields a struct declares and would ignore misspelt ones.
fn from_js<T: serde::de::DeserializeOwned>(key: &'static str, v: &JsValue) -> JsResult<T> {
    let json: serde_json::Value = serde_wasm_bindgen::from_value(v.clone()).map_err(|e| invalid(key, e.to_string()))?;
    serde_json::from_value(json).map_err(|e| invalid(key, e.to_string()))
}

fn nested<T: serde::de::DeserializeOwned>(o: &Options, key: &'static str) -> JsResult<Option<T>> {
    match o.values.get(key) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => from_js(key, v).map(Some),
    }
}

/// `current` with the fields of the JS object `patch` replaced (serde: camelCase names, unknown
/// ones refused with their name); `undefined`/`null` keep `current`.
fn patched<T: Serialize + serde::de::DeserializeOwned>(key: &'static str, current: &T, patch: &JsValue) -> JsResult<T> {
    if patch.is_undefined() || patch.is_null() {
        return serde_json::to_value(current).and_then(serde_json::from_value).map_err(|e| invalid(key, e.to_string()));
    }
    let mut merged = serde_json::to_value(current).map_err(|e| invalid(key, e.to_string()))?;
    match (merged.as_object_mut(), from_js::<serde_json::Value>(key, patch)?) {
        (Some(m), serde_json::Value::Object(p)) => m.extend(p),
        (_, other) => return Err(invalid(key, format!("must be an object, got {}", json_type(&other)))),
    }
    serde_json::from_value(merged).map_err(|e| invalid(key, e.to_string()))
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `signals` with `now` filled from `Date.now()` when not given.
fn signals(o: &Options) -> JsResult<Option<Signals>> {
    Ok(nested::<Signals>(o, "signals")?.map(|mut s| {
        s.now = s.now.or_else(|| Some(js_sys::Date::now()));
        s
    }))
}

fn filter(o: &Options) -> JsResult<Option<serde_json::Value>> {
    match o.values.get("filter") {
        None => Ok(None),
        Some(v) => json_value("filter", v),
    }
}

/// Results to JS as plain objects. Through one JSON text and `JSON.parse`: a field at a time
/// through `serde_wasm_bindgen` took ~25 µs per candidate (2.5 ms of a 100-candidate `retrieve`).
fn to_value<T: Serialize>(v: &T) -> JsResult<JsValue> {
    let json = serde_json::to_string(v).map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    js_sys::JSON::parse(&json)
}

fn json_value(name: &'static str, v: &JsValue) -> JsResult<Option<serde_json::Value>> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    serde_wasm_bindgen::from_value(v.clone()).map(Some).map_err(|e| invalid(name, format!("is not JSON-compatible: {e}")))
}

fn id_of(name: &'static str, v: &JsValue) -> JsResult<Option<String>> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else if let Some(s) = v.as_string() {
        Ok(Some(s))
    } else if let Some(x) = v.as_f64().filter(|x| x.is_finite()) {
        Ok(Some(if x.fract() == 0.0 && x.abs() < 9.0e15 { format!("{}", x as i64) } else { x.to_string() }))
    } else {
        Err(invalid(name, format!("must be a string or a number, got {}", type_name(v))))
    }
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

/// The minirank engine for JavaScript: both models and the index, built from bytes.
#[wasm_bindgen]
pub struct Engine {
    inner: Minirank,
    pending: Embedded,
    auto_id: u64,
}

#[wasm_bindgen]
impl Engine {
    /// `new Engine(biModel, biTokenizer, ceModel, ceTokenizer, biConfig?, ceConfig?)`, each a
    /// `Uint8Array`/`ArrayBuffer` (configs optional).
    #[wasm_bindgen(constructor)]
    pub fn new(
        bi_model: JsValue,
        bi_tokenizer: JsValue,
        ce_model: JsValue,
        ce_tokenizer: JsValue,
        bi_config: JsValue,
        ce_config: JsValue,
    ) -> JsResult<Engine> {
        let (bm, bt, bc) = (bytes("biEncoder.model", &bi_model)?, bytes("biEncoder.tokenizer", &bi_tokenizer)?, optional_bytes("biEncoder.config", &bi_config)?);
        let (cm, ct, cc) = (bytes("crossEncoder.model", &ce_model)?, bytes("crossEncoder.tokenizer", &ce_tokenizer)?, optional_bytes("crossEncoder.config", &ce_config)?);
        let bi = ModelFiles { model: &bm, tokenizer: &bt, config: bc.as_deref(), sha256: None };
        let ce = ModelFiles { model: &cm, tokenizer: &ct, config: cc.as_deref(), sha256: None };
        let inner = Minirank::from_bytes(bi, ce).map_err(to_js)?;
        Ok(Engine { inner, pending: Embedded::default(), auto_id: 0 })
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

    fn documents(&mut self, docs: &JsValue) -> JsResult<Vec<Document>> {
        let items = items("documents", docs, Some(&["id", "text", "metadata", "parent"]))?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let id = match item.id {
                Some(id) => id,
                None => self.next_id(&out),
            };
            out.push(Document { id, text: item.text, metadata: item.metadata, parent: item.parent });
        }
        Ok(out)
    }

    /// An id not in the index nor in `batch` ("0", "1", ... continuing across calls).
    fn next_id(&mut self, batch: &[Document]) -> String {
        loop {
            let id = self.auto_id.to_string();
            self.auto_id += 1;
            let staged = self.pending.documents().iter().any(|d| d.id == id || d.parent.as_deref() == Some(id.as_str()));
            if !self.inner.index().contains(&id) && !batch.iter().any(|d| d.id == id) && !staged {
                return id;
            }
        }
    }

    /// Embed and index documents (strings, or `{id, text, metadata, parent}`); an existing id is
    /// replaced. All or nothing. `onProgress(done, total)` is called after each batch. Returns
    /// the number of index entries written (a long document split into passages counts each).
    pub fn index(&mut self, documents: JsValue, on_progress: Option<js_sys::Function>) -> JsResult<usize> {
        let docs = self.documents(&documents)?;
        let mut progress = |done: usize, total: usize| {
            if let Some(f) = &on_progress {
                let _ = f.call2(&JsValue::NULL, &(done as f64).into(), &(total as f64).into());
            }
        };
        self.inner.add_documents_with_progress(docs, &mut progress).map_err(to_js)
    }

    /// Embed documents into a pending batch without changing the index (for progress between
    /// slices); `commitPending()` adds every pending document at once, `discardPending()` drops them.
    #[wasm_bindgen(js_name = embedPending)]
    pub fn embed_pending(&mut self, documents: JsValue) -> JsResult<usize> {
        let docs = self.documents(&documents)?;
        let embedded = self.inner.embed_documents(docs, &mut |_, _| {}).map_err(to_js)?;
        let n = embedded.len();
        self.pending.append(embedded);
        Ok(n)
    }

    /// Add all pending documents (all or nothing); returns how many.
    #[wasm_bindgen(js_name = commitPending)]
    pub fn commit_pending(&mut self) -> JsResult<usize> {
        let pending = std::mem::take(&mut self.pending);
        let n = pending.len();
        self.inner.insert_embedded(pending).map_err(to_js)?;
        Ok(n)
    }

    /// Drop pending documents.
    #[wasm_bindgen(js_name = discardPending)]
    pub fn discard_pending(&mut self) {
        self.pending = Embedded::default();
    }

    /// Remove a document by id (with its passages, if it was split); returns whether it was indexed.
    pub fn remove(&mut self, id: JsValue) -> JsResult<bool> {
        let id = id_of("id", &id)?.ok_or_else(|| invalid("id", "is required"))?;
        Ok(self.inner.remove(&id))
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

    /// Stage 1: `{ k = 20, retrieval = 'hybrid' | 'dense' | 'bm25', hybrid, filter }` →
    /// `[{id, text, score, metadata?, parent?}]`, best first. `query` is a text, or a query
    /// vector (`Float32Array` or number array, e.g. from `embed`) for dense retrieval.
    pub fn retrieve(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let text = query.as_string();
        if text.is_none() && !query.is_instance_of::<js_sys::Float32Array>() && !Array::is_array(&query) {
            return Err(invalid("query", format!("must be a string or a query vector (Float32Array), got {}", type_name(&query))));
        }
        let o = Options::parse(&options, &["k", "retrieval", "hybrid", "filter"])?;
        let d = RetrieveOptions::default();
        let opts = RetrieveOptions {
            k: o.count("k", 1)?.unwrap_or(d.k),
            retrieval: nested(&o, "retrieval")?,
            hybrid: nested(&o, "hybrid")?.unwrap_or(d.hybrid),
            filter: filter(&o)?,
        };
        let hits = match text {
            Some(text) => self.inner.retrieve_with(&text, &opts),
            None => self.inner.retrieve_vector(&numbers("query", &query)?, &opts),
        };
        to_value(&hits.map_err(to_js)?)
    }

    /// Stage 2 on any candidates (strings, or `{id?, text, score?, metadata?, parent?}`; other
    /// fields are ignored so results of `retrieve` pass straight in).
    /// Options `{ topK, batchSize, maxLength, minScore, fusion: { dense, bm25, crossEncoder }, signals, parents }`.
    /// `logits` (one number per candidate, e.g. from `scorePairs` in other workers) skips the model.
    pub fn rerank(&self, query: JsValue, candidates: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        let mut keys = RERANK_KEYS.to_vec();
        keys.extend(["signals", "parents", "logits"]);
        let o = Options::parse(&options, &keys)?;
        let opts = rerank_options(&o)?;
        let cands = candidate_list(&candidates)?;
        let logits = o.values.get("logits").filter(|v| !v.is_null()).map(|v| numbers("logits", v)).transpose()?;
        let r = self
            .inner
            .rerank_scored(&query, &cands, logits.as_deref(), &opts, signals(&o)?.as_ref(), nested(&o, "parents")?)
            .map_err(to_js)?;
        to_value(&r)
    }

    /// Raw cross-encoder logits for `(query, text)` pairs, in order (`Float32Array`); no cache,
    /// no sorting. Texts are strings or `{ text }` objects. Options `{ batchSize, maxLength }`.
    #[wasm_bindgen(js_name = scorePairs)]
    pub fn score_pairs(&self, query: JsValue, texts: JsValue, options: JsValue) -> JsResult<Vec<f32>> {
        score_pairs(self.inner.reranker().model(), &query, &texts, &options)
    }

    /// Both stages. Options `{ candidates = 20, topK = 5, batchSize, maxLength, minScore, fusion,
    /// retrieval, hybrid, cascade, filter, signals, parents }`.
    pub fn search(&self, query: JsValue, options: JsValue) -> JsResult<JsValue> {
        let query = string("query", &query)?;
        let mut keys = RERANK_KEYS.to_vec();
        keys.extend(["candidates", "retrieval", "hybrid", "cascade", "filter", "signals", "parents"]);
        let o = Options::parse(&options, &keys)?;
        let r = rerank_options(&o)?;
        let d = SearchOptions::default();
        let opts = SearchOptions {
            candidates: o.count("candidates", 1)?.unwrap_or(d.candidates),
            top_k: r.top_k.unwrap_or(d.top_k),
            min_score: r.min_score,
            batch_size: r.batch_size,
            max_length: r.max_length,
            fusion: r.fusion,
            retrieval: nested(&o, "retrieval")?.unwrap_or(d.retrieval),
            hybrid: nested(&o, "hybrid")?.unwrap_or(d.hybrid),
            cascade: nested(&o, "cascade")?.unwrap_or_default(),
            filter: filter(&o)?,
            signals: signals(&o)?,
            parents: nested(&o, "parents")?,
        };
        to_value(&self.inner.search(&query, &opts).map_err(to_js)?)
    }

    /// Split documents longer than `maxTokens` into overlapping passages when indexing:
    /// `{ maxTokens = 200, overlapSentences = 1 }`, or `null` to keep documents whole.
    #[wasm_bindgen(js_name = setChunking)]
    pub fn set_chunking(&mut self, chunking: JsValue) -> JsResult<()> {
        let c = if chunking.is_undefined() || chunking.is_null() {
            None
        } else {
            Some(from_js::<Chunking>("chunking", &chunking)?)
        };
        self.inner.set_chunking(c).map_err(to_js)
    }

    /// BM25 settings `{ k1 = 1.2, b = 0.75, stopWords = true, stemmer = 'english' | null }`
    /// (fields left out keep their value).
    #[wasm_bindgen(js_name = setBm25)]
    pub fn set_bm25(&mut self, params: JsValue) -> JsResult<()> {
        let p = patched("bm25", &self.inner.index().bm25_params(), &params)?;
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

    /// Limits that keep the index within a memory budget: `{ maxDocuments, maxDocumentBytes }`.
    /// Adding past them throws (code `CapacityExceeded` / `DocumentTooLarge`) instead of running
    /// the page out of memory.
    #[wasm_bindgen(js_name = setLimits)]
    pub fn set_limits(&mut self, limits: JsValue) -> JsResult<()> {
        let o = Options::parse(&limits, &["maxDocuments", "maxDocumentBytes"])?;
        let mut l = self.inner.index().limits();
        if let Some(n) = o.count("maxDocuments", 1)? {
            l.max_documents = n;
        }
        if let Some(n) = o.count("maxDocumentBytes", 1)? {
            l.max_document_bytes = n;
        }
        self.inner.set_limits(l);
        Ok(())
    }

    /// `{ maxDocuments, maxDocumentBytes, memoryBytes }`: the limits and the index's approximate size.
    #[wasm_bindgen(js_name = getLimits)]
    pub fn get_limits(&self) -> JsResult<JsValue> {
        let l = self.inner.index().limits();
        to_value(&serde_json::json!({
            "maxDocuments": l.max_documents,
            "maxDocumentBytes": l.max_document_bytes,
            "memoryBytes": self.inner.index().memory_bytes(),
        }))
    }

    /// `{entries, hits, misses}` of the cross-encoder score cache.
    #[wasm_bindgen(js_name = cacheStats)]
    pub fn cache_stats(&self) -> JsResult<JsValue> {
        let (entries, hits, misses) = self.inner.reranker().cache_stats();
        to_value(&serde_json::json!({ "entries": entries, "hits": hits, "misses": misses }))
    }

    /// Resize the score cache (0 disables it).
    #[wasm_bindgen(js_name = setCacheCapacity)]
    pub fn set_cache_capacity(&self, entries: JsValue) -> JsResult<()> {
        let n = entries.as_f64().filter(|x| x.is_finite() && *x >= 0.0 && x.fract() == 0.0).ok_or_else(|| invalid("entries", "must be a whole number >= 0"))?;
        self.inner.reranker().set_cache_capacity(n as usize);
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
        let (m, t) = (bytes("crossEncoder.model", &model)?, bytes("crossEncoder.tokenizer", &tokenizer)?);
        let c = optional_bytes("crossEncoder.config", &config)?;
        let files = ModelFiles { model: &m, tokenizer: &t, config: c.as_deref(), sha256: None };
        Ok(Scorer { model: CrossEncoder::from_bytes(files).map_err(to_js)? })
    }

    /// As `Engine.scorePairs`.
    #[wasm_bindgen(js_name = scorePairs)]
    pub fn score_pairs(&self, query: JsValue, texts: JsValue, options: JsValue) -> JsResult<Vec<f32>> {
        score_pairs(&self.model, &query, &texts, &options)
    }
}

fn score_pairs(model: &CrossEncoder, query: &JsValue, texts: &JsValue, options: &JsValue) -> JsResult<Vec<f32>> {
    let query = string("query", query)?;
    let o = rerank_options(&Options::parse(options, &["batchSize", "maxLength"])?)?;
    let texts: Vec<String> = items("texts", texts, None)?.into_iter().map(|it| it.text).collect();
    model.score_checked(&query, &texts, o.max_length, o.batch_size).map_err(to_js)
}

/// A `Float32Array` or an array of finite numbers.
fn numbers(name: &'static str, v: &JsValue) -> JsResult<Vec<f32>> {
    if let Some(a) = v.dyn_ref::<js_sys::Float32Array>() {
        return Ok(a.to_vec());
    }
    if !Array::is_array(v) {
        return Err(invalid(name, format!("must be a Float32Array or an array of numbers, got {}", type_name(v))));
    }
    let arr: &Array = v.unchecked_ref();
    arr.iter()
        .enumerate()
        .map(|(i, x)| x.as_f64().map(|x| x as f32).ok_or_else(|| invalid(name, format!("item {i} must be a number, got {}", type_name(&x)))))
        .collect()
}

fn candidate_list(v: &JsValue) -> JsResult<Vec<Candidate>> {
    Ok(items("candidates", v, None)?
        .into_iter()
        .enumerate()
        .map(|(i, it)| Candidate {
            id: it.id.unwrap_or_else(|| i.to_string()),
            text: it.text,
            score: it.score,
            dense: it.dense,
            bm25: it.bm25,
            metadata: it.metadata,
            parent: it.parent,
        })
        .collect())
}

/// One entry of an array of strings or `{ text, id?, score?, dense?, bm25?, metadata?, parent? }` objects.
struct Item {
    id: Option<String>,
    text: String,
    score: Option<f32>,
    dense: Option<f32>,
    bm25: Option<f32>,
    metadata: Option<serde_json::Value>,
    parent: Option<String>,
}

/// Parse such an array. With `only`, fields outside it are refused; without, they are ignored.
fn items(name: &'static str, v: &JsValue, only: Option<&[&str]>) -> JsResult<Vec<Item>> {
    if !Array::is_array(v) {
        return Err(invalid(name, format!("must be an array of strings or {{id, text, ...}} objects, got {}", type_name(v))));
    }
    let arr: &Array = v.unchecked_ref();
    let mut out = Vec::with_capacity(arr.length() as usize);
    for (i, x) in arr.iter().enumerate() {
        if let Some(text) = x.as_string() {
            out.push(Item { id: None, text, score: None, dense: None, bm25: None, metadata: None, parent: None });
            continue;
        }
        if !x.is_object() || Array::is_array(&x) {
            return Err(invalid(name, format!("item {i} must be a string or an object, got {}", type_name(&x))));
        }
        let obj: &Object = x.unchecked_ref();
        if let Some(allowed) = only {
            for key in Object::keys(obj).iter() {
                let key = key.as_string().unwrap_or_default();
                if !allowed.contains(&key.as_str()) {
                    return Err(invalid(name, format!("item {i} has unknown field `{key}`: put extra fields in `metadata`")));
                }
            }
        }
        let text = Reflect::get(obj, &"text".into())?;
        let text = text.as_string().ok_or_else(|| invalid(name, format!("item {i}: `text` must be a string, got {}", type_name(&text))))?;
        let number = |field: &str| -> JsResult<Option<f32>> {
            let v = Reflect::get(obj, &field.into())?;
            if v.is_undefined() || v.is_null() {
                return Ok(None);
            }
            let x = v.as_f64().filter(|x| x.is_finite());
            Ok(Some(x.ok_or_else(|| invalid(name, format!("item {i}: `{field}` must be a finite number")))? as f32))
        };
        let (score, dense, bm25) = (number("score")?, number("dense")?, number("bm25")?);
        let id = id_of(name, &Reflect::get(obj, &"id".into())?)?;
        let metadata = json_value(name, &Reflect::get(obj, &"metadata".into())?)?;
        let parent = id_of(name, &Reflect::get(obj, &"parent".into())?)?;
        out.push(Item { id, text, score, dense, bm25, metadata, parent });
    }
    Ok(out)
}
