//! Bring-your-own-model architectures: BERT, DistilBERT, RoBERTa, XLM-RoBERTa, DeBERTa-v2/v3 and
//! ModernBERT exports load and run as bi-encoders and as cross-encoders, with the tokenization and
//! outputs of Python `tokenizers` + onnxruntime. Tiny random models and references: scripts/make_tiny_arch_models.py.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;
use minirank::tokenize::TextTokenizer;
use serde_json::Value;

const ARCHS: [&str; 6] = ["bert", "distilbert", "roberta", "xlmr", "deberta", "modernbert"];

struct Arch {
    model: Vec<u8>,
    tokenizer: Vec<u8>,
    config: Vec<u8>,
}

impl Arch {
    fn load(arch: &str, role: &str) -> Self {
        let dir = format!("tests/fixtures/tiny/arch/{arch}-{role}");
        Self {
            model: read(&format!("{dir}/model.onnx")),
            tokenizer: read(&format!("{dir}/tokenizer.json")),
            config: read(&format!("{dir}/config.json")),
        }
    }
    fn files(&self) -> ModelFiles<'_> {
        ModelFiles::new(&self.model, &self.tokenizer).with_config(&self.config)
    }
}

fn reference(arch: &str) -> Value {
    static R: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    R.get_or_init(|| serde_json::from_slice(&read("tests/fixtures/tiny/arch/reference.json")).unwrap())[arch].clone()
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

/// The largest differences from onnxruntime allowed for an input of `tokens` tokens: (token
/// states after pooling, logits). DeBERTa buckets a relative position `p` with
/// `ceil(ln(|p| / mid) / ln((max - 1) / mid) · (mid - 1))`; at `|p| = max - 1` that is exactly an
/// integer, and tract, which divides by a constant as a product with its reciprocal, lands one ulp
/// above it and one bucket further (the tiny model: `max_relative_positions` 64, so inputs of 64
/// tokens and more; deberta-v3 and mxbai-rerank: 512, so only inputs of the full 512 tokens).
fn tolerance(arch: &str, tokens: usize) -> (f32, f32) {
    if arch == "deberta" && tokens >= 64 {
        (3e-3, 1e-2)
    } else {
        (1e-4, 1e-3)
    }
}

/// Architectures whose positions are relative (DeBERTa) or rotary (ModernBERT): no position table
/// to run past.
fn has_position_table(arch: &str) -> bool {
    !matches!(arch, "deberta" | "modernbert")
}

fn max_length(r: &Value) -> usize {
    r["max_length"].as_u64().unwrap() as usize
}

fn bi(arch: &str) -> BiEncoder {
    BiEncoder::from_bytes(Arch::load(arch, "bi").files()).unwrap_or_else(|e| panic!("{arch} bi-encoder: {e}"))
}

fn ce(arch: &str) -> CrossEncoder {
    CrossEncoder::from_bytes(Arch::load(arch, "ce").files()).unwrap_or_else(|e| panic!("{arch} cross-encoder: {e}"))
}

#[test]
fn tokenization_matches_python_tokenizers() {
    for arch in ARCHS {
        let r = reference(arch);
        let max = max_length(&r);
        let tok = TextTokenizer::from_bytes(ModelRole::BiEncoder, &Arch::load(arch, "bi").tokenizer).unwrap();
        assert_eq!(tok.vocab_size(), r["vocab_size"].as_u64().unwrap() as usize, "{arch}");
        assert_eq!(tok.pad_id(), r["pad_id"].as_u64().unwrap() as u32, "{arch}: pad id");
        for (text, ids) in strs(&r["texts"]).into_iter().zip(r["ids"].as_array().unwrap()) {
            assert_eq!(tok.encode(text, max).unwrap().ids, u32s(ids), "{arch}: {text:?}");
        }
        let pairs = r["pairs"].as_array().unwrap();
        for ((pair, ids), tt) in
            pairs.iter().zip(r["pair_ids"].as_array().unwrap()).zip(r["pair_type_ids"].as_array().unwrap())
        {
            let (q, d) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            let e = tok.encode_pair(q, d, max).unwrap();
            assert_eq!(e.ids, u32s(ids), "{arch}: {q:?} / {d:?}");
            assert_eq!(e.type_ids, u32s(tt), "{arch}: {q:?} / {d:?}");
        }
    }
}

#[test]
fn bi_encoders_match_onnxruntime() {
    for arch in ARCHS {
        let r = reference(arch);
        let mut model = bi(arch);
        assert_eq!(model.dim(), 32, "{arch}");
        // the default budget is the usable position count (RoBERTa/XLM-R: table rows - padding_idx - 1)
        assert_eq!(model.max_length(), max_length(&r), "{arch}");
        let texts = strs(&r["texts"]);
        let want: Vec<Vec<f32>> = r["embeddings"].as_array().unwrap().iter().map(f32s).collect();
        let (mut worst_cos, mut worst_abs) = (1f32, 0f32);
        // texts of different lengths in one batch: padding must not change the real tokens' states
        for batch_size in [1, 3, 32] {
            model.set_batch_size(batch_size).unwrap();
            let got = model.embed(&texts).unwrap();
            for (((text, g), w), ids) in texts.iter().zip(&got).zip(&want).zip(r["ids"].as_array().unwrap()) {
                let cos = minirank::kernels::dot(g, w);
                let abs = g.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                (worst_cos, worst_abs) = (worst_cos.min(cos), worst_abs.max(abs));
                assert!(
                    cos >= 0.9999 && abs <= tolerance(arch, ids.as_array().unwrap().len()).0,
                    "{arch} batch {batch_size}: cosine {cos}, max |diff| {abs} for {text:?}"
                );
            }
        }
        println!("{arch} bi-encoder: worst cosine {worst_cos}, worst |diff| {worst_abs}");
        // one token past the position table is refused, not run
        let err = model.set_max_length(max_length(&r) + 1).unwrap_err();
        assert!(matches!(err, Error::InvalidOption { .. }), "{arch}: {err}");
    }
}

#[test]
fn cross_encoders_match_onnxruntime() {
    for arch in ARCHS {
        let r = reference(arch);
        let model = ce(arch);
        let max = max_length(&r);
        assert_eq!(model.max_positions(), max, "{arch}");
        assert_eq!(model.uses_token_type_ids(), arch == "bert", "{arch}");
        assert!(model.check_max_length(max + 1).is_err(), "{arch}");
        let tokens: Vec<usize> =
            r["pair_ids"].as_array().unwrap().iter().map(|p| p.as_array().unwrap().len()).collect();
        let pairs = r["pairs"].as_array().unwrap();
        let want = f32s(&r["logits"]);
        let mut worst = 0f32;
        let mut i = 0;
        while i < pairs.len() {
            let q = pairs[i][0].as_str().unwrap();
            let j = i + pairs[i..].iter().take_while(|p| p[0].as_str().unwrap() == q).count();
            let docs: Vec<&str> = pairs[i..j].iter().map(|p| p[1].as_str().unwrap()).collect();
            for batch_size in [1, 3, 16] {
                let got = model.score(q, &docs, max, batch_size).unwrap();
                for (k, g) in got.iter().enumerate() {
                    let d = (g - want[i + k]).abs();
                    worst = worst.max(d);
                    let allowed = tolerance(arch, tokens[i + k]).1;
                    assert!(d <= allowed, "{arch} pair {} batch {batch_size}: {g} vs {}", i + k, want[i + k]);
                }
            }
            i = j;
        }
        println!("{arch} cross-encoder: worst |logit diff| {worst}");
    }
}

/// The largest |logit difference| allowed against onnxruntime on the same file: fp16 files are
/// computed in f32 here (onnxruntime computes in f16); in the dynamically quantised ones minirank
/// keeps the weights but not the 8-bit activations (f32 natively, 16-bit in wasm), so it differs
/// from onnxruntime by about what the activations' quantisation costs there.
fn dtype_tolerance(file: &str) -> f32 {
    if file.contains("fp16") {
        5e-3
    } else {
        4e-2
    }
}

#[test]
fn dtype_variants_match_onnxruntime() {
    // tests/fixtures/tiny/dtypes: the bert cross-encoder as the Hub's onnx/ folders serve it
    // (float16 converter, quantize_dynamic; scripts/make_dtype_variants.py)
    let r: Value = serde_json::from_slice(&read("tests/fixtures/tiny/dtypes/reference.json")).unwrap();
    let bert = reference("bert");
    let c = Arch::load("bert", "ce");
    let pairs = bert["pairs"].as_array().unwrap();
    let files = r["files"].as_object().unwrap();
    assert!(files.len() >= 5, "{:?}", files.keys());
    for (file, want) in files {
        let bytes = read(&format!("tests/fixtures/tiny/dtypes/{file}"));
        assert_eq!(minirank::integrity::sha256_hex(&bytes), want["sha256"].as_str().unwrap(), "{file}");
        let model = CrossEncoder::from_bytes(ModelFiles::new(&bytes, &c.tokenizer).with_config(&c.config))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let (want, fp32) = (f32s(&want["logits"]), f32s(&r["fp32_logits"]));
        let (mut worst, mut from_fp32, mut ort_from_fp32, tolerance) = (0f32, 0f32, 0f32, dtype_tolerance(file));
        for (k, pair) in pairs.iter().enumerate() {
            let (q, d) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            let got = model.score(q, &[d], max_length(&bert), 1).unwrap()[0];
            worst = worst.max((got - want[k]).abs());
            from_fp32 = from_fp32.max((got - fp32[k]).abs());
            ort_from_fp32 = ort_from_fp32.max((want[k] - fp32[k]).abs());
        }
        println!(
            "{file}: worst |logit diff| against onnxruntime {worst}; from the fp32 model {from_fp32} (onnxruntime {ort_from_fp32})"
        );
        assert!(worst <= tolerance, "{file}: {worst} > {tolerance}");
        // never further from the model before quantisation than onnxruntime on the same file
        assert!(from_fp32 <= ort_from_fp32 + 2e-3, "{file}: {from_fp32} from fp32, onnxruntime {ort_from_fp32}");
    }
    // 4-bit MatMulNBits (q4 / bnb4) is refused at load, with what to use instead
    let q4 = read("tests/fixtures/tiny/dtypes/model_q4.onnx");
    assert_eq!(minirank::integrity::sha256_hex(&q4), r["unsupported"]["model_q4.onnx"].as_str().unwrap());
    let Err(err) = CrossEncoder::from_bytes(ModelFiles::new(&q4, &c.tokenizer)) else { panic!("a q4 file loaded") };
    assert!(matches!(err, Error::BadModel { .. }), "{err}");
    assert!(err.to_string().contains("MatMulNBits") && err.to_string().contains("fp16 or q8"), "{err}");
}

#[test]
fn search_runs_through_minirank_with_each_architecture() {
    for arch in ARCHS {
        let r = reference(arch);
        let (b, c) = (Arch::load(arch, "bi"), Arch::load(arch, "ce"));
        let mut engine = Minirank::from_bytes(b.files(), c.files()).unwrap_or_else(|e| panic!("{arch}: {e}"));
        let texts = strs(&r["texts"]);
        let docs = texts.iter().enumerate().map(|(i, t)| Document::new(format!("d{i}"), *t)).collect();
        engine.add_documents(docs).unwrap();
        let query = strs(&r["pairs"][0])[0];
        let mut options = SearchOptions::top(texts.len(), 3);
        options.rerank.max_length = max_length(&r);
        let result = engine.search(query, &options).unwrap();
        assert_eq!(result.candidates.len(), texts.len(), "{arch}");
        assert_eq!(result.reranked.hits.len(), 3, "{arch}");
        // a cross-encoder whose config.json gives no weight of its own weighs as much as the cosine
        assert_eq!(result.reranked.weights.cross_encoder, minirank::fusion::CROSS_ENCODER_WEIGHT, "{arch}");
        assert!(result.reranked.hits.iter().any(|h| h.contributions.cross_encoder != 0.0), "{arch}");
        // the pool carries the bi-encoder's cosines, the hits the cross-encoder's logits
        let q = engine.embedder().embed_one(query).unwrap();
        for c in &result.candidates {
            let v = engine.embedder().embed_one(&c.text).unwrap();
            let cos = c.dense.expect("the cosine of each candidate");
            assert!(
                (cos - minirank::kernels::dot(&q, &v)).abs() < 1e-5,
                "{arch}: {cos} vs {}",
                minirank::kernels::dot(&q, &v)
            );
        }
        let hits = &result.reranked.hits;
        let texts: Vec<&str> = hits.iter().map(|h| h.text.as_str()).collect();
        let logits = engine.reranker().model().expect("cross-encoder").score(query, &texts, max_length(&r), 1).unwrap();
        for (h, l) in hits.iter().zip(&logits) {
            assert!((h.logit - l).abs() < 1e-5, "{arch}: {} vs {l}", h.logit);
        }
    }
}

/// sentence-transformers' `1_Pooling/config.json` with one mode on.
fn pooling_config(mode: &str) -> Vec<u8> {
    let modes = ["cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken"];
    let v: serde_json::Map<String, Value> =
        modes.iter().map(|m| (format!("pooling_mode_{m}"), Value::Bool(*m == mode))).collect();
    let mut v = Value::Object(v);
    v["word_embedding_dimension"] = 32.into();
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn cls_pooling_from_sentence_transformers_or_config_json() {
    for arch in ARCHS {
        let r = reference(arch);
        let b = Arch::load(arch, "bi");
        let texts = strs(&r["texts"]);
        let want: Vec<Vec<f32>> = r["cls_embeddings"].as_array().unwrap().iter().map(f32s).collect();
        let cls_file = pooling_config("cls_token");
        let mut config: Value = serde_json::from_slice(&b.config).unwrap();
        config["minirank"] = serde_json::json!({"pooling": "cls"});
        let config = serde_json::to_vec(&config).unwrap();
        let mean = bi(arch);
        for files in
            [b.files().with_pooling_config(&cls_file), ModelFiles::new(&b.model, &b.tokenizer).with_config(&config)]
        {
            let model = BiEncoder::from_bytes(files).unwrap_or_else(|e| panic!("{arch}: {e}"));
            assert_eq!(model.pooling(), Pooling::Cls, "{arch}");
            // an index embedded with mean pooling is not one of this model's
            assert_ne!(model.fingerprint(), mean.fingerprint(), "{arch}");
            let got = model.embed(&texts).unwrap();
            for (((text, g), w), ids) in texts.iter().zip(&got).zip(&want).zip(r["ids"].as_array().unwrap()) {
                let abs = g.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                assert!(abs <= tolerance(arch, ids.as_array().unwrap().len()).0, "{arch}: {abs} for {text:?}");
            }
        }
        assert_eq!(mean.pooling(), Pooling::Mean);
        // a mean-pooling file gives the default
        let files = b.files();
        let mean_file = pooling_config("mean_tokens");
        assert_eq!(
            BiEncoder::from_bytes(files.with_pooling_config(&mean_file)).unwrap().fingerprint(),
            mean.fingerprint()
        );
    }
    // modes minirank does not pool by are refused, named
    let b = Arch::load("bert", "bi");
    for mode in ["max_tokens", "lasttoken"] {
        let bad = pooling_config(mode);
        let err = BiEncoder::from_bytes(b.files().with_pooling_config(&bad)).unwrap_err();
        assert!(matches!(err, Error::BadConfig { .. }) && err.to_string().contains(mode), "{err}");
    }
}

#[test]
fn a_cross_encoders_config_can_give_its_fusion_weight() {
    let c = Arch::load("bert", "ce");
    let with = |settings: &str| {
        let mut config: Value = serde_json::from_slice(&c.config).unwrap();
        config["minirank"] = serde_json::from_str(settings).unwrap();
        let config = serde_json::to_vec(&config).unwrap();
        CrossEncoder::from_bytes(ModelFiles::new(&c.model, &c.tokenizer).with_config(&config))
    };
    assert_eq!(ce("bert").fusion_weight(), None);
    assert_eq!(with(r#"{"fusion": {"crossEncoder": 0.25}}"#).unwrap().fusion_weight(), Some(0.25));
    assert_eq!(with(r#"{}"#).unwrap().fusion_weight(), None);
    for bad in [r#"{"fusion": {"crossEncoder": -1}}"#, r#"{"fusion": {"crossEncoder": 1e9}}"#, r#"{"fusoin": {}}"#] {
        let err = with(bad).unwrap_err();
        assert!(matches!(err, Error::BadConfig { .. }), "{bad}: {err}");
    }
}

#[test]
fn distilbert_cross_encoder_needs_its_config_to_ignore_segment_ids() {
    // DistilBERT's tokenizer.json (like distilbert-base-uncased's) marks the document as segment 1,
    // but the architecture has no segment embeddings: config.json's model_type says so.
    let c = Arch::load("distilbert", "ce");
    let err = CrossEncoder::from_bytes(ModelFiles::new(&c.model, &c.tokenizer)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { .. }), "{err}");
    assert!(err.to_string().contains("token_type_ids") && err.to_string().contains("config.json"), "{err}");
    let model = CrossEncoder::from_bytes(c.files()).unwrap();
    assert!(!model.uses_token_type_ids());
}

#[test]
fn models_without_config_use_the_default_limits() {
    // without config.json nothing says how many positions the table has: 512, BERT's (and
    // roberta-base's usable 514 - 2); these tiny tables are smaller, so stay under them
    for arch in ARCHS {
        let r = reference(arch);
        let b = Arch::load(arch, "bi");
        let mut model = BiEncoder::from_bytes(ModelFiles::new(&b.model, &b.tokenizer)).unwrap();
        assert_eq!(model.max_length(), 256, "{arch}");
        model.set_max_length(max_length(&r)).unwrap();
        let texts = strs(&r["texts"]);
        let got = model.embed(&texts).unwrap();
        for (g, w) in got.iter().zip(r["embeddings"].as_array().unwrap()) {
            assert!(minirank::kernels::dot(g, &f32s(w)) >= 0.9999, "{arch}");
        }
        // past the table: an error, not a panic or garbage
        let long = strs(&r["texts"])[5]; // 60 sentences: truncated to 256 tokens
        model.set_max_length(256).unwrap();
        match model.embed(&[long]) {
            // relative or rotary positions: any length runs, as in onnxruntime
            Ok(v) if !has_position_table(arch) => assert_eq!(v[0].len(), 32, "{arch}"),
            Err(e) => {
                assert!(matches!(e, Error::Inference { .. }), "{arch}: {e}");
                println!("{arch} without config.json, 256 tokens: {e}");
            }
            Ok(v) => panic!("{arch}: embedded {} values past the position table", v[0].len()),
        }
    }
}

#[test]
fn unsupported_graphs_are_refused_with_a_clear_error() {
    let tok = Arch::load("bert", "bi").tokenizer;
    let graph = |name: &str| read(&format!("tests/fixtures/tiny/arch/unsupported/{name}"));
    // an export that also takes position_ids
    let g = graph("position_ids_input.onnx");
    let err = BiEncoder::from_bytes(ModelFiles::new(&g, &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { role: ModelRole::BiEncoder, .. }), "{err}");
    assert!(err.to_string().contains("unexpected input `position_ids`"), "{err}");
    let err = CrossEncoder::from_bytes(ModelFiles::new(&g, &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { role: ModelRole::CrossEncoder, .. }), "{err}");
    // an export with only the pooled sentence embedding: no token states to pool, and not logits
    let g = graph("sentence_embedding_only.onnx");
    let err = BiEncoder::from_bytes(ModelFiles::new(&g, &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { .. }) && err.to_string().contains("rank-3"), "{err}");
    let err = CrossEncoder::from_bytes(ModelFiles::new(&g, &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { .. }) && err.to_string().contains("16 labels"), "{err}");
    // a config.json of another vocabulary than the tokenizer's
    let x = Arch::load("xlmr", "bi");
    let mut config: Value = serde_json::from_slice(&x.config).unwrap();
    config["vocab_size"] = 250002.into();
    let config = serde_json::to_vec(&config).unwrap();
    let err = BiEncoder::from_bytes(ModelFiles::new(&x.model, &x.tokenizer).with_config(&config)).unwrap_err();
    assert!(matches!(err, Error::TokenizerMismatch { model_vocab: 250002, .. }), "{err}");
}

#[test]
fn each_architecture_converts_to_nnef_and_scores_as_its_onnx_file() {
    for arch in ARCHS {
        let r = reference(arch);
        let max = max_length(&r);
        let (bi_files, ce_files) = (Arch::load(arch, "bi"), Arch::load(arch, "ce"));
        let bi_nnef =
            minirank::convert_to_nnef(ModelRole::BiEncoder, &bi_files.model).unwrap_or_else(|e| panic!("{arch}: {e}"));
        let ce_nnef = minirank::convert_to_nnef(ModelRole::CrossEncoder, &ce_files.model)
            .unwrap_or_else(|e| panic!("{arch}: {e}"));
        let bi_converted = BiEncoder::from_bytes(ModelFiles { model: &bi_nnef, ..bi_files.files() }).unwrap();
        let ce_converted = CrossEncoder::from_bytes(ModelFiles { model: &ce_nnef, ..ce_files.files() }).unwrap();
        // what minirank read from the ONNX graph travels with it
        assert_eq!(bi_converted.fingerprint(), bi(arch).fingerprint(), "{arch}");
        assert_eq!(ce_converted.uses_token_type_ids(), arch == "bert", "{arch}");
        assert_eq!(ce_converted.max_positions(), max, "{arch}");
        let texts = strs(&r["texts"]);
        let (a, b) = (bi(arch).embed(&texts).unwrap(), bi_converted.embed(&texts).unwrap());
        for (x, y) in a.iter().zip(&b) {
            assert!(x.iter().zip(y).all(|(p, q)| (p - q).abs() <= 1e-5), "{arch} bi-encoder");
        }
        let pairs = r["pairs"].as_array().unwrap();
        let q = pairs[0][0].as_str().unwrap();
        let docs: Vec<&str> = pairs.iter().map(|p| p[1].as_str().unwrap()).collect();
        let (a, b) = (ce(arch).score(q, &docs, max, 4).unwrap(), ce_converted.score(q, &docs, max, 4).unwrap());
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-5), "{arch} cross-encoder: {a:?} vs {b:?}");
    }
}
