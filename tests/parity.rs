//! Parity with onnxruntime: reference outputs made by scripts/make_reference.py from the same files.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;
use minirank::tokenize::TextTokenizer;

#[test]
fn bi_encoder_tokenization_matches_python_tokenizers() {
    let fx = fixture("bi_encoder_reference.json");
    let tok = TextTokenizer::from_bytes(ModelRole::BiEncoder, &bi_files().tokenizer).unwrap();
    let max = fx["max_length"].as_u64().unwrap() as usize;
    for (text, ids) in fx["texts"].as_array().unwrap().iter().zip(fx["ids"].as_array().unwrap()) {
        let want: Vec<u32> = ids.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        assert_eq!(tok.encode(text.as_str().unwrap(), max).unwrap().ids, want, "{text}");
    }
}

#[test]
fn bi_encoder_embeddings_match_onnxruntime() {
    let fx = fixture("bi_encoder_reference.json");
    let model = BiEncoder::from_bytes(bi_files().as_files()).unwrap();
    let texts: Vec<&str> = fx["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    // batched with padding (minirank's path) against batch-1 unpadded onnxruntime
    let got = model.embed(&texts).unwrap();
    let mut worst = 1.0f32;
    for ((text, want), v) in texts.iter().zip(fx["embeddings"].as_array().unwrap()).zip(&got) {
        let want: Vec<f32> = want.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        assert_eq!(v.len(), 384);
        let cos = minirank::kernels::dot(v, &want);
        worst = worst.min(cos);
        assert!(cos >= 0.9999, "cosine {cos} for {text:?}");
    }
    println!("worst cosine vs onnxruntime: {worst}");
}

#[test]
fn cross_encoder_pairs_match_python_tokenizers() {
    let fx = fixture("cross_encoder_reference.json");
    let tok = TextTokenizer::from_bytes(ModelRole::CrossEncoder, &ce_files().tokenizer).unwrap();
    let max = fx["max_length"].as_u64().unwrap() as usize;
    let pairs = fx["pairs"].as_array().unwrap();
    for ((pair, ids), tt) in pairs.iter().zip(fx["ids"].as_array().unwrap()).zip(fx["type_ids"].as_array().unwrap()) {
        let (q, d) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let e = tok.encode_pair(q, d, max).unwrap();
        let want_ids: Vec<u32> = ids.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        let want_tt: Vec<u32> = tt.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        assert_eq!(e.ids, want_ids, "{q:?} / {d:?}");
        assert_eq!(e.type_ids, want_tt, "{q:?} / {d:?}");
    }
}

#[test]
fn cross_encoder_logits_match_onnxruntime() {
    let fx = fixture("cross_encoder_reference.json");
    let model = CrossEncoder::from_bytes(ce_files().as_files()).unwrap();
    let max = fx["max_length"].as_u64().unwrap() as usize;
    let pairs = fx["pairs"].as_array().unwrap();
    let want: Vec<f32> = fx["logits"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
    let mut worst = 0f32;
    // group by query so each call is one batched rerank, as in production
    let mut i = 0;
    while i < pairs.len() {
        let q = pairs[i][0].as_str().unwrap();
        let mut j = i;
        while j < pairs.len() && pairs[j][0].as_str().unwrap() == q {
            j += 1;
        }
        let docs: Vec<&str> = pairs[i..j].iter().map(|p| p[1].as_str().unwrap()).collect();
        for batch_size in [1, 7, 16] {
            let got = model.score(q, &docs, max, batch_size).unwrap();
            for (k, g) in got.iter().enumerate() {
                let d = (g - want[i + k]).abs();
                worst = worst.max(d);
                assert!(d < 1e-3, "pair {} batch {batch_size}: {g} vs {}", i + k, want[i + k]);
            }
        }
        i = j;
    }
    println!("worst |logit diff| vs onnxruntime: {worst}");
}

#[test]
fn gelu_runs_as_one_fused_operator() {
    // the graph rewrite before loading lets tract fuse torch's five-node GELU into one
    // `GeluExact` (the logits above stay those of onnxruntime); a tract upgrade that stops
    // fusing it would bring the `Erf` nodes back
    let e = engine();
    let ops: Vec<String> = e
        .reranker()
        .model()
        .expect("cross-encoder")
        .profile("a query", &["a short document"], 64, 1)
        .unwrap()
        .into_iter()
        .map(|(op, _)| op)
        .collect();
    assert!(ops.iter().any(|op| op == "GeluExact"), "{ops:?}");
    assert!(!ops.iter().any(|op| op == "Erf"), "{ops:?}");
}
