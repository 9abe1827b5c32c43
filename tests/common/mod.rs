//! Shared helpers for the integration tests: model files, fixtures, a loaded engine.
#![allow(dead_code)]

use minirank::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = root().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh to fetch the models)", p.display()))
}

pub struct Files {
    pub model: Vec<u8>,
    pub tokenizer: Vec<u8>,
    pub config: Vec<u8>,
}

impl Files {
    pub fn load(dir: &str) -> Self {
        Files {
            model: read(&format!("models/{dir}/model.onnx")),
            tokenizer: read(&format!("models/{dir}/tokenizer.json")),
            config: read(&format!("models/{dir}/config.json")),
        }
    }
    pub fn as_files(&self) -> ModelFiles<'_> {
        ModelFiles::new(&self.model, &self.tokenizer).with_config(&self.config)
    }
}

pub fn bi_files() -> &'static Files {
    static F: OnceLock<Files> = OnceLock::new();
    F.get_or_init(|| Files::load("bi-encoder"))
}

pub fn ce_files() -> &'static Files {
    static F: OnceLock<Files> = OnceLock::new();
    F.get_or_init(|| Files::load("cross-encoder"))
}

pub fn engine() -> Minirank {
    Minirank::from_bytes(bi_files().as_files(), ce_files().as_files()).expect("models load")
}

pub fn seed_docs() -> Vec<Document> {
    String::from_utf8(read("tests/fixtures/seed000.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn seed_questions() -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&read("tests/fixtures/seed000_questions.json")).unwrap();
    v["questions"].as_array().unwrap().iter().map(|q| q.as_str().unwrap().to_owned()).collect()
}

/// An engine with the 20 seed documents indexed, built once per test binary.
pub fn seed_engine() -> &'static Minirank {
    static E: OnceLock<Minirank> = OnceLock::new();
    E.get_or_init(|| {
        let mut e = engine();
        e.add_documents(seed_docs()).unwrap();
        e
    })
}

pub fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_slice(&read(&format!("tests/fixtures/{name}"))).unwrap()
}

/// The `minirank` binary of this build, run with the repository's models on two threads.
pub fn minirank(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_minirank"))
        .args(args)
        .env("MINIRANK_MODELS", root().join("models"))
        .args(["--threads", "2"])
        .output()
        .expect("the binary runs")
}

/// A successful run's stdout as JSON.
pub fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}
