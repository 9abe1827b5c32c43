//! `minirank --cross-encoder <Hub id>`: models by Hugging Face Hub id from a local server with the
//! Hub's layout and headers (`/{id}/resolve/{revision}/{file}`, ETag, X-Repo-Commit, ranges; the
//! file list at `/api/models/{id}/revision/{revision}`), cached in `$HF_HOME/hub` as hf-hub and
//! Python's huggingface_hub keep it: a second run reads the cache with the server gone.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// `repo → file → fixture` (under tests/fixtures/tiny/).
fn repos() -> HashMap<&'static str, HashMap<&'static str, &'static str>> {
    let ce = HashMap::from([
        ("onnx/model.onnx", "arch/bert-ce/model.onnx"),
        ("onnx/model_fp16.onnx", "dtypes/model_fp16.onnx"),
        ("onnx/model_quantized.onnx", "dtypes/model_quantized.onnx"),
        ("tokenizer.json", "arch/bert-ce/tokenizer.json"),
        ("config.json", "arch/bert-ce/config.json"),
    ]);
    let bi = HashMap::from([
        ("onnx/model.onnx", "arch/bert-bi/model.onnx"),
        ("tokenizer.json", "arch/bert-bi/tokenizer.json"),
        ("config.json", "arch/bert-bi/config.json"),
        ("1_Pooling/config.json", "pooling/cls.json"),
    ]);
    HashMap::from([("test/tiny-ce", ce), ("test/tiny-bi", bi)])
}

/// Answer one HTTP/1.1 request as the Hub does; returns the path asked for.
fn answer(stream: TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
            range = v.trim().split_once('-').map(|(a, b)| (a.parse::<usize>().unwrap_or(0), b.parse::<usize>().ok()));
        }
    }
    let mut out = stream;
    let send = |out: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
        let head = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        let _ = out.write_all(head.as_bytes()).and_then(|_| out.write_all(body));
    };
    let json404 = br#"{"error":"Entry not found"}"#;
    if path.starts_with("/gated/") {
        send(&mut out, "401 Unauthorized", "", br#"{"error":"Access to model gated/model is restricted."}"#);
        return Some(path);
    }
    let repos = repos();
    if let Some(rest) = path.strip_prefix("/api/models/") {
        let id = rest.split("/revision/").next().unwrap_or_default();
        let Some(files) = repos.get(id) else {
            send(&mut out, "404 Not Found", "", json404);
            return Some(path);
        };
        let siblings: Vec<_> = files.keys().map(|f| serde_json::json!({ "rfilename": f })).collect();
        let body = serde_json::json!({ "sha": COMMIT, "siblings": siblings }).to_string();
        send(&mut out, "200 OK", "Content-Type: application/json\r\n", body.as_bytes());
        return Some(path);
    }
    let mut parts = path.trim_start_matches('/').splitn(5, '/');
    let (owner, name, _resolve, _revision, file) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let Some(fixture) = repos.get(format!("{owner}/{name}").as_str()).and_then(|r| r.get(file)) else {
        send(&mut out, "404 Not Found", "X-Error-Code: EntryNotFound\r\n", json404);
        return Some(path);
    };
    let bytes = read(&format!("tests/fixtures/tiny/{fixture}"));
    let etag = minirank::integrity::sha256_hex(&bytes);
    let headers = format!("ETag: \"{etag}\"\r\nX-Repo-Commit: {COMMIT}\r\nAccept-Ranges: bytes\r\n");
    match range {
        Some((from, to)) => {
            let to = to.unwrap_or(bytes.len() - 1).min(bytes.len() - 1);
            let headers = format!("{headers}Content-Range: bytes {from}-{to}/{}\r\n", bytes.len());
            send(&mut out, "206 Partial Content", &headers, &bytes[from..=to]);
        }
        None => send(&mut out, "200 OK", &headers, &bytes),
    }
    Some(path)
}

/// A Hub on a free port; the paths asked for are kept.
fn serve() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(p) = answer(stream) {
                log.lock().unwrap().push(p);
            }
        }
    });
    (url, asked)
}

fn run(hf_home: &std::path::Path, args: &[&str]) -> std::process::Output {
    let docs = root().join("tests/fixtures/seed000.jsonl");
    Command::new(env!("CARGO_BIN_EXE_minirank"))
        .args(["search", "--docs", docs.to_str().unwrap(), "--query", "parallel python", "--json", "--threads", "1"])
        .args(["--candidates", "5", "--top-k", "3", "--max-length", "128"])
        .args(args)
        .env("HF_HOME", hf_home)
        .env_remove("HF_ENDPOINT")
        .output()
        .unwrap()
}

#[test]
fn models_by_hub_id_are_fetched_once_into_the_hubs_cache_layout() {
    let home = std::env::temp_dir().join(format!("minirank-cli-hub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let (url, asked) = serve();
    let ids = ["--bi-encoder", "test/tiny-bi", "--cross-encoder", "test/tiny-ce"];
    let out = run(&home, &[&ids[..], &["--dtype", "fp32", "--hub-url", &url]].concat());
    let v = json_of(&out);
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    let asked_now = asked.lock().unwrap().clone();
    for file in ["test/tiny-ce/resolve/main/onnx/model.onnx", "test/tiny-bi/resolve/main/1_Pooling/config.json"] {
        assert!(asked_now.iter().any(|p| p.ends_with(file)), "{file} in {asked_now:?}");
    }
    // the Hub's own cache layout: blobs and a snapshot of the commit
    let snapshot = home.join(format!("hub/models--test--tiny-ce/snapshots/{COMMIT}/onnx/model.onnx"));
    assert!(snapshot.exists(), "{}", snapshot.display());
    // a second run reads the cache: no server at that address any more
    let gone = "http://127.0.0.1:9";
    let again = json_of(&run(&home, &[&ids[..], &["--dtype", "fp32", "--hub-url", gone]].concat()));
    assert_eq!(again["results"], v["results"]);
    // another dtype of the same repository is fetched; one it lacks names the dtypes it has
    json_of(&run(&home, &[&ids[..], &["--dtype", "bi-encoder=fp32,cross-encoder=fp16", "--hub-url", &url]].concat()));
    assert!(asked.lock().unwrap().iter().any(|p| p.ends_with("test/tiny-ce/resolve/main/onnx/model_fp16.onnx")));
    let out = run(&home, &[&ids[..], &["--dtype", "bi-encoder=fp32,cross-encoder=int8", "--hub-url", &url]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("test/tiny-ce") && err.contains("onnx/model_int8.onnx"), "{err}");
    assert!(err.contains("it has the dtypes fp32, fp16, q8"), "{err}");
    let out = run(&home, &["--cross-encoder", "gated/model", "--hub-url", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("gated or private"), "{err}");
    let out = run(&home, &["--cross-encoder", "test/tiny-ce", "--dtype", "q3", "--hub-url", &url]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a dtype"));
    let _ = std::fs::remove_dir_all(&home);
}
