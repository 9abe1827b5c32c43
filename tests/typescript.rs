//! The package's TypeScript declarations of the option and result types, generated from the Rust
//! types into `pkg-config/types.d.ts`: read from the source with `syn` (names, types, doc
//! comments) and the serde attributes the crate uses (`rename_all`, `rename`, `default`,
//! `skip_serializing_if`, `flatten`, `skip`). This test fails when the committed file is not what
//! the types generate now; `MINIRANK_UPDATE_TYPES=1 cargo test --release --test typescript`
//! rewrites it. A serde attribute it does not know fails the test rather than generating a lie.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Write;

/// The types, in the order they are declared, by source file.
const TYPES: &[(&str, &[&str])] = &[
    ("src/pipeline.rs", &["RetrieveOptions"]),
    ("src/retrieval.rs", &["CandidateSource"]),
    ("src/pipeline.rs", &["PoolOptions", "SearchOptions"]),
    ("src/retrieval.rs", &["Retrieval", "Hybrid", "HybridMethod", "Stage", "StageScorer"]),
    ("src/rerank.rs", &["RerankOptions"]),
    ("src/fusion.rs", &["Fusion", "Weights", "Contributions"]),
    ("src/signals.rs", &["Signals", "Freshness", "Decay", "Authority", "Diversity"]),
    ("src/chunk.rs", &["ParentScore", "Chunking"]),
    ("src/cross_encoder.rs", &["PairOptions"]),
    ("src/bm25.rs", &["Bm25Params", "Stemmer"]),
    ("src/index/mod.rs", &["IndexLimits", "Document"]),
    ("src/hits.rs", &["Candidate", "FusedHit", "RerankedHit", "ResultStage", "Components", "Reranked"]),
    ("src/pipeline.rs", &["SearchResult", "FusedResult"]),
    ("src/rerank.rs", &["CacheStats"]),
];

/// Where the Rust type says less than JavaScript accepts, or more than a result holds (each
/// result's `stage` is one of the values of `ResultStage`).
const FIELD_TYPES: &[(&str, &str, &str)] = &[
    ("RerankOptions", "logits", "Float32Array | number[]"),
    ("SearchResult", "stage", "'reranked'"),
    ("FusedResult", "stage", "'fused'"),
];

#[derive(Default)]
struct Serde {
    rename_all: Option<String>,
    rename: Option<String>,
    default: bool,
    skip_serializing_if: bool,
    flatten: bool,
    skip: bool,
}

fn serde_attrs(attrs: &[syn::Attribute]) -> Serde {
    let mut s = Serde::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        a.parse_nested_meta(|m| {
            let key = m.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            match key.as_str() {
                "rename_all" => s.rename_all = Some(m.value()?.parse::<syn::LitStr>()?.value()),
                "rename" => s.rename = Some(m.value()?.parse::<syn::LitStr>()?.value()),
                "default" => {
                    s.default = true;
                    if m.input.peek(syn::Token![=]) {
                        m.value()?.parse::<syn::LitStr>()?;
                    }
                }
                "skip_serializing_if" => {
                    s.skip_serializing_if = true;
                    m.value()?.parse::<syn::LitStr>()?;
                }
                "deserialize_with" => {
                    m.value()?.parse::<syn::LitStr>()?;
                }
                "flatten" => s.flatten = true,
                "skip" => s.skip = true,
                "deny_unknown_fields" => {}
                other => panic!("serde attribute `{other}` is not understood by the TypeScript generator"),
            }
            Ok(())
        })
        .unwrap();
    }
    s
}

fn docs(attrs: &[syn::Attribute], indent: &str) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let text = js_words(&strip_links(&lines.join("\n")));
    let mut out = format!("{indent}/**\n");
    for l in text.lines() {
        let _ = writeln!(out, "{indent} *{}{}", if l.is_empty() { "" } else { " " }, l);
    }
    let _ = writeln!(out, "{indent} */");
    out
}

/// Rust intra-doc links read as code in TypeScript: "[`Fusion`]" → "`Fusion`",
/// "[`rerank`](Self::rerank)" → "`rerank`".
fn strip_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("[`") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find("`]") {
            Some(j) => {
                out.push_str(&after[..j + 1]);
                rest = &after[j + 2..];
                if rest.starts_with('(') {
                    if let Some(k) = rest.find(')') {
                        rest = &rest[k + 1..];
                    }
                }
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Rust names in code spans read as their JavaScript forms: `None` → `null`, `Some(x)` → `x`,
/// paths lose their `crate::`/`Type::` prefix (`crate::pipeline::Minirank::search` → `search`),
/// snake_case becomes camelCase (`min_score` → `minScore`), and the Rust-only methods name the
/// JavaScript method that stands for them (`retrieve_with` → `retrieve`). Constants
/// (SCREAMING_CASE) and type names stay as they are.
fn js_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut parts = s.split('`');
    out.push_str(parts.next().unwrap_or_default());
    for (i, part) in parts.enumerate() {
        out.push('`');
        out.push_str(&if i % 2 == 0 { js_code(part) } else { part.to_owned() });
    }
    out
}

fn js_code(code: &str) -> String {
    if code == "None" {
        return "null".into();
    }
    if let Some(inner) = code.strip_prefix("Some(").and_then(|c| c.strip_suffix(')')) {
        return js_code(inner);
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !code.chars().all(|c| ident(c) || c == ':') || code.is_empty() {
        return code.to_owned();
    }
    let last = code.rsplit("::").next().unwrap_or(code);
    let is_const = last.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if is_const || last.starts_with(|c: char| c.is_ascii_uppercase()) {
        return last.to_owned();
    }
    match last {
        "retrieve_with" => "retrieve".into(),
        _ => rename(last, Some("camelCase")),
    }
}

fn rename(ident: &str, rule: Option<&str>) -> String {
    match rule {
        None => ident.to_owned(),
        Some("lowercase") => ident.to_lowercase(),
        Some("camelCase") => {
            let mut out = String::new();
            let mut up = false;
            for (i, ch) in ident.chars().enumerate() {
                if ch == '_' {
                    up = true;
                } else if up {
                    out.extend(ch.to_uppercase());
                    up = false;
                } else if i == 0 {
                    out.extend(ch.to_lowercase());
                } else {
                    out.push(ch);
                }
            }
            out
        }
        Some(other) => panic!("rename_all = {other:?} is not understood by the TypeScript generator"),
    }
}

/// (TypeScript type, whether it is a Rust `Option`).
fn ts_type(ty: &syn::Type) -> (String, bool) {
    let syn::Type::Path(p) = ty else { panic!("type {} is not understood", quote::quote!(#ty)) };
    let seg = p.path.segments.last().unwrap();
    let args: Vec<&syn::Type> = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let name = seg.ident.to_string();
    let t = match name.as_str() {
        "Option" => return (ts_type(args[0]).0, true),
        "Vec" => {
            let inner = ts_type(args[0]).0;
            if inner.contains(' ') {
                format!("({inner})[]")
            } else {
                format!("{inner}[]")
            }
        }
        "HashMap" | "BTreeMap" => format!("Record<string, {}>", ts_type(args[1]).0),
        "usize" | "u8" | "u16" | "u32" | "u64" | "i32" | "i64" | "f32" | "f64" => "number".into(),
        "String" | "str" => "string".into(),
        "bool" => "boolean".into(),
        "Value" => "unknown".into(),
        _ => name,
    };
    (t, false)
}

fn declare(item: &syn::Item, out: &mut String) {
    match item {
        syn::Item::Struct(s) => {
            let name = s.ident.to_string();
            let c = serde_attrs(&s.attrs);
            let syn::Fields::Named(fields) = &s.fields else { panic!("{name}: only structs with named fields") };
            let mut extends = Vec::new();
            let mut body = String::new();
            for f in &fields.named {
                let a = serde_attrs(&f.attrs);
                if a.skip {
                    continue;
                }
                let (ty, is_option) = ts_type(&f.ty);
                if a.flatten {
                    extends.push(ty);
                    continue;
                }
                let ident = f.ident.as_ref().unwrap().to_string();
                let key = a.rename.clone().unwrap_or_else(|| rename(&ident, c.rename_all.as_deref()));
                let ty = FIELD_TYPES
                    .iter()
                    .find(|(t, f, _)| *t == name && *f == key)
                    .map(|(_, _, t)| t.to_string())
                    .unwrap_or(ty);
                // read with a default: may be left out; written only when present: may be absent
                let optional = c.default || a.default || a.skip_serializing_if;
                let nullable = is_option && !a.skip_serializing_if;
                body.push_str(&docs(&f.attrs, "  "));
                let _ = writeln!(
                    body,
                    "  {key}{}: {ty}{};",
                    if optional { "?" } else { "" },
                    if nullable { " | null" } else { "" }
                );
            }
            out.push_str(&docs(&s.attrs, ""));
            let ext = if extends.is_empty() { String::new() } else { format!(" extends {}", extends.join(", ")) };
            let _ = write!(out, "export interface {name}{ext} {{\n{body}}}\n");
        }
        syn::Item::Enum(e) => {
            let name = e.ident.to_string();
            let c = serde_attrs(&e.attrs);
            let mut parts = Vec::new();
            for v in &e.variants {
                assert!(matches!(v.fields, syn::Fields::Unit), "{name}: only unit variants");
                let a = serde_attrs(&v.attrs);
                parts.push(format!(
                    "'{}'",
                    a.rename.unwrap_or_else(|| rename(&v.ident.to_string(), c.rename_all.as_deref()))
                ));
            }
            out.push_str(&docs(&e.attrs, ""));
            let _ = writeln!(out, "export type {name} = {};", parts.join(" | "));
        }
        _ => unreachable!(),
    }
}

fn generated() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = String::from(
        "// Generated from minirank's Rust types by tests/typescript.rs: do not edit.\n\
         // MINIRANK_UPDATE_TYPES=1 cargo test --release --test typescript\n\
         import type { Filter } from './filter.js';\n",
    );
    let codes = minirank::Error::CODES.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(" | ");
    let _ = write!(out, "\n/** The `code` of a `MinirankError` raised by the core (`Error::code` in Rust). */\nexport type CoreErrorCode = {codes};\n");
    for (file, names) in TYPES {
        let src = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let ast = syn::parse_file(&src).unwrap();
        for name in *names {
            let item = ast
                .items
                .iter()
                .find(|i| match i {
                    syn::Item::Struct(s) => s.ident == name,
                    syn::Item::Enum(e) => e.ident == name,
                    _ => false,
                })
                .unwrap_or_else(|| panic!("{name} not found in {file}"));
            out.push('\n');
            declare(item, &mut out);
        }
    }
    out
}

#[test]
fn committed_types_are_what_the_rust_types_generate() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg-config/types.d.ts");
    let want = generated();
    if std::env::var_os("MINIRANK_UPDATE_TYPES").is_some() {
        std::fs::write(path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == want, "pkg-config/types.d.ts is not what the Rust types generate: run MINIRANK_UPDATE_TYPES=1 cargo test --release --test typescript");
}

#[test]
fn camel_case_and_links_read_as_serde_and_typescript_expect() {
    assert_eq!(rename("half_life_days", Some("camelCase")), "halfLifeDays");
    assert_eq!(rename("k1", Some("camelCase")), "k1");
    assert_eq!(rename("Hybrid", Some("lowercase")), "hybrid");
    assert_eq!(strip_links("see [`Fusion`] and [`rerank`](Self::rerank), [x]"), "see `Fusion` and `rerank`, [x]");
    assert_eq!(
        js_words("`None`: all; `Some(top_k)`, `crate::pipeline::Minirank::search`, `Minirank::retrieve_with`, `min_score`, `DEFAULT_RETRIEVAL`, `Fusion`, `a + b`"),
        "`null`: all; `topK`, `search`, `retrieve`, `minScore`, `DEFAULT_RETRIEVAL`, `Fusion`, `a + b`"
    );
}
