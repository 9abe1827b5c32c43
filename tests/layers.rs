//! The modules of `src/` form layers: no module depends (in code, outside its unit tests) on one
//! that depends back on it. A dependency is a `crate::name` path in code (comments and doc links
//! do not count). The model runtime, `src/model/`, counts as one module per folder or file under it
//! (`model::ops`, `model::nnef`, ...), layered among themselves and below everything else.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(src)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().unwrap() != "bin" {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap().to_string_lossy().replace('\\', "/");
        let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
        let module = match parts.as_slice() {
            ["model", "mod"] => "model".to_owned(),
            ["model", sub, ..] => format!("model::{sub}"),
            [top, ..] => (*top).to_owned(),
            [] => unreachable!(),
        };
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let word = |from: usize| -> String {
                    line[from..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect()
                };
                let mut name = word(i + 7);
                if name == "model" && line[i + 7 + 5..].starts_with("::") {
                    name = format!("model::{}", word(i + 7 + 5 + 2));
                }
                if !name.is_empty() && name != module {
                    deps.insert(name);
                }
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    graph
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(m) = stack.pop() {
        for d in &graph[&m] {
            if d == to {
                return true;
            }
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    false
}

#[test]
fn no_module_depends_on_one_that_depends_back() {
    let graph = module_graph();
    assert!(graph.len() > 15, "{graph:?}");
    let cycles: Vec<(String, String)> = graph
        .iter()
        .flat_map(|(m, deps)| deps.iter().filter(|d| reaches(&graph, d, m)).map(move |d| (m.clone(), d.clone())))
        .collect();
    assert!(cycles.is_empty(), "module cycles: {cycles:?}");
    // the layers CONTRIBUTING.md describes. The model runtime, lowest first: each part uses only
    // those before it, and nothing of minirank's above the tokenizer.
    let runtime = ["model::ops", "model::nnef", "model::signature", "model::onnx", "model::encoder"];
    let below_the_runtime = ["error", "tokenize", "integrity"];
    for (i, part) in runtime.iter().enumerate() {
        let deps = graph.get(*part).unwrap_or_else(|| panic!("{part} is missing: {:?}", graph.keys()));
        for d in deps {
            assert!(
                runtime[..i].contains(&d.as_str()) || below_the_runtime.contains(&d.as_str()),
                "{part} depends on {d}"
            );
        }
    }
    assert!(
        graph.keys().filter(|m| m.starts_with("model::")).all(|m| runtime.contains(&m.as_str())),
        "{:?}",
        graph.keys()
    );
    // above it, only the encoder is used: its compiled graph, files and batches
    for (m, deps) in graph.iter().filter(|(m, _)| !m.starts_with("model")) {
        for d in deps.iter().filter(|d| d.starts_with("model")) {
            assert_eq!(d, "model::encoder", "{m} reaches into the model runtime's {d}");
        }
    }
    // the roles know nothing of ranking policy, and the JavaScript binding nothing of search
    // internals; stage 1 (retrieval) runs without the facade
    for low in ["tokenize", "model::encoder", "bi_encoder", "cross_encoder"] {
        for policy in ["rerank", "fusion", "signals", "retrieval", "pipeline", "index"] {
            assert!(!graph[low].contains(policy), "{low} depends on {policy}");
        }
    }
    for internal in ["index", "rerank", "retrieval", "signals", "bm25"] {
        assert!(!graph["wasm"].contains(internal), "wasm.rs reaches into {internal}");
    }
    assert!(!graph["retrieval"].contains("pipeline"), "retrieval depends on pipeline");
}
