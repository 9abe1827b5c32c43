//! The modules of `src/` form layers: no module depends (in code, outside its unit tests) on one
//! that depends back on it. A dependency is a `crate::name` path in code (comments and doc links
//! do not count).
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
        let module = rel.trim_end_matches(".rs").split('/').next().unwrap().to_owned();
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
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
    // the layers CONTRIBUTING.md describes: the model layer knows nothing of ranking policy, and the
    // JavaScript binding nothing of search internals
    for low in ["tokenize", "encoder", "bi_encoder", "cross_encoder"] {
        for policy in ["rerank", "fusion", "signals", "retrieval", "pipeline", "index"] {
            assert!(!graph[low].contains(policy), "{low} depends on {policy}");
        }
    }
    for internal in ["index", "rerank", "retrieval", "signals", "bm25"] {
        assert!(!graph["wasm"].contains(internal), "wasm.rs reaches into {internal}");
    }
}
