//! Metadata filters, applied before scoring: only matching documents are scored at all.
//!
//! A filter is a JSON object; every entry must hold (AND). Keys are metadata field names, with
//! dots for nested fields (`"author.name"`). Values:
//!
//! | filter | matches when the field |
//! |---|---|
//! | `"lang": "en"` (string, number, boolean, null) | equals it, or is an array containing it |
//! | `"tag": ["a", "b"]` | equals one of them (or is an array containing one) |
//! | `"year": { "gte": 2020, "lt": 2025 }` | is within the range (`gt`, `gte`, `lt`, `lte`) |
//! | `"x": { "eq": v }`, `{ "ne": v }` | equals / does not equal `v` |
//! | `"x": { "in": [..] }`, `{ "nin": [..] }` | is / is not one of them |
//! | `"x": { "exists": true }` | is present (and not null) |
//!
//! Ranges compare numbers with numbers and strings with strings (ISO-8601 dates in one format
//! compare correctly as strings); a field of the other type does not match. Two special
//! top-level keys combine filters: `"anyOf": [filter, ...]` (OR) and `"not": filter`.

use crate::error::{Error, Result};
use serde_json::Value;
use std::cmp::Ordering;

/// A parsed filter. It deserializes from the filter object (checked once, there) and
/// serializes back to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    clauses: Vec<Clause>,
    source: Value,
}

impl serde::Serialize for Filter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.source.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Filter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = <Value as serde::Deserialize>::deserialize(d)?;
        Filter::parse(&v).map_err(|e| match e {
            Error::InvalidOption { reason, .. } => serde::de::Error::custom(reason),
            other => serde::de::Error::custom(other),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Clause {
    Field { path: Vec<String>, ops: Vec<Op> },
    AnyOf(Vec<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Cmp(Ordering, bool, Value),
    Exists(bool),
}

const OPS: &str = "eq, ne, in, nin, gt, gte, lt, lte, exists";

fn bad(reason: String) -> Error {
    Error::invalid_option("filter", reason)
}

impl Filter {
    /// Parse a filter object (see the module docs).
    pub fn parse(v: &Value) -> Result<Self> {
        let Value::Object(map) = v else {
            return Err(bad(format!("must be an object of field conditions, got {}", kind(v))));
        };
        let mut clauses = Vec::with_capacity(map.len());
        for (key, cond) in map {
            clauses.push(match key.as_str() {
                "anyOf" => match cond {
                    Value::Array(list) if !list.is_empty() => {
                        Clause::AnyOf(list.iter().map(Filter::parse).collect::<Result<_>>()?)
                    }
                    _ => return Err(bad("`anyOf` must be a non-empty array of filters".into())),
                },
                "not" => Clause::Not(Box::new(Filter::parse(cond)?)),
                _ => {
                    if key.is_empty() || key.split('.').any(str::is_empty) {
                        return Err(bad(format!("field name {key:?} is not a valid (dotted) path")));
                    }
                    Clause::Field { path: key.split('.').map(str::to_owned).collect(), ops: parse_ops(key, cond)? }
                }
            });
        }
        Ok(Self { clauses, source: v.clone() })
    }

    /// Whether a document with this metadata passes.
    pub fn matches(&self, metadata: Option<&Value>) -> bool {
        self.clauses.iter().all(|c| match c {
            Clause::AnyOf(list) => list.iter().any(|f| f.matches(metadata)),
            Clause::Not(f) => !f.matches(metadata),
            Clause::Field { path, ops } => {
                let field = metadata.and_then(|m| path.iter().try_fold(m, |v, k| v.get(k)));
                ops.iter().all(|op| op.matches(field))
            }
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn scalar(key: &str, op: &str, v: &Value) -> Result<Value> {
    match v {
        Value::Array(_) | Value::Object(_) => {
            Err(bad(format!("`{key}.{op}` must be a string, number, boolean or null, got {}", kind(v))))
        }
        _ => Ok(v.clone()),
    }
}

fn list(key: &str, op: &str, v: &Value) -> Result<Vec<Value>> {
    match v {
        Value::Array(items) => items.iter().map(|x| scalar(key, op, x)).collect(),
        _ => Err(bad(format!("`{key}.{op}` must be an array, got {}", kind(v)))),
    }
}

fn parse_ops(key: &str, cond: &Value) -> Result<Vec<Op>> {
    let ops = match cond {
        Value::Array(_) => vec![Op::In(list(key, "in", cond)?)],
        Value::Object(map) => {
            if map.is_empty() {
                return Err(bad(format!("`{key}` has an empty condition (expected one of: {OPS})")));
            }
            let mut ops = Vec::new();
            for (op, v) in map {
                ops.push(match op.as_str() {
                    "eq" => Op::Eq(scalar(key, op, v)?),
                    "ne" => Op::Ne(scalar(key, op, v)?),
                    "in" => Op::In(list(key, op, v)?),
                    "nin" => Op::Nin(list(key, op, v)?),
                    "gt" | "gte" | "lt" | "lte" => {
                        if !(v.is_number() || v.is_string()) {
                            return Err(bad(format!("`{key}.{op}` must be a number or a string, got {}", kind(v))));
                        }
                        let ord = if op.starts_with('g') { Ordering::Greater } else { Ordering::Less };
                        Op::Cmp(ord, op.ends_with('e'), v.clone())
                    }
                    "exists" => {
                        Op::Exists(v.as_bool().ok_or_else(|| bad(format!("`{key}.exists` must be true or false")))?)
                    }
                    other => {
                        return Err(bad(format!("unknown operator `{other}` on `{key}` (expected one of: {OPS})")))
                    }
                });
            }
            ops
        }
        _ => vec![Op::Eq(cond.clone())],
    };
    Ok(ops)
}

/// Equality with numbers compared by value (1 == 1.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Equal, or an array field containing it.
fn has(field: &Value, v: &Value) -> bool {
    same(field, v) || matches!(field, Value::Array(items) if items.iter().any(|x| same(x, v)))
}

fn compare(field: &Value, bound: &Value) -> Option<Ordering> {
    match (field, bound) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

impl Op {
    fn matches(&self, field: Option<&Value>) -> bool {
        let present = field.filter(|f| !f.is_null());
        match self {
            Op::Exists(want) => present.is_some() == *want,
            Op::Eq(v) => field.map_or(v.is_null(), |f| has(f, v)),
            Op::Ne(v) => !field.map_or(v.is_null(), |f| has(f, v)),
            Op::In(vs) => field.is_some_and(|f| vs.iter().any(|v| has(f, v))),
            Op::Nin(vs) => !field.is_some_and(|f| vs.iter().any(|v| has(f, v))),
            Op::Cmp(ord, or_equal, bound) => present
                .and_then(|f| compare(f, bound))
                .is_some_and(|o| o == *ord || (*or_equal && o == Ordering::Equal)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(filter: Value, meta: Value) -> bool {
        Filter::parse(&filter).unwrap().matches(Some(&meta))
    }

    #[test]
    fn equality_sets_and_arrays() {
        let doc = json!({"lang": "en", "year": 2021, "tags": ["rust", "wasm"], "a": {"b": 1}});
        assert!(m(json!({"lang": "en"}), doc.clone()));
        assert!(!m(json!({"lang": "de"}), doc.clone()));
        assert!(m(json!({"year": 2021.0}), doc.clone()));
        assert!(m(json!({"tags": "wasm"}), doc.clone()));
        assert!(m(json!({"tags": ["go", "rust"]}), doc.clone()));
        assert!(!m(json!({"tags": {"nin": ["rust"]}}), doc.clone()));
        assert!(m(json!({"lang": {"in": ["de", "en"]}}), doc.clone()));
        assert!(m(json!({"lang": {"ne": "de"}}), doc.clone()));
        assert!(m(json!({"a.b": 1}), doc.clone()));
        assert!(!m(json!({"a.c": 1}), doc.clone()));
        assert!(m(json!({"lang": "en", "year": 2021}), doc.clone()));
        assert!(!m(json!({"lang": "en", "year": 2020}), doc));
    }

    #[test]
    fn ranges_and_existence() {
        let doc = json!({"year": 2021, "date": "2024-05-01", "none": null});
        assert!(m(json!({"year": {"gte": 2021, "lt": 2022}}), doc.clone()));
        assert!(!m(json!({"year": {"gt": 2021}}), doc.clone()));
        assert!(m(json!({"year": {"lte": 2021}}), doc.clone()));
        assert!(m(json!({"date": {"gte": "2024-01-01"}}), doc.clone()));
        assert!(!m(json!({"date": {"gte": 2024}}), doc.clone()), "string field vs number bound");
        assert!(!m(json!({"missing": {"gte": 0}}), doc.clone()));
        assert!(m(
            json!({"year": {"exists": true}, "none": {"exists": false}, "missing": {"exists": false}}),
            doc.clone()
        ));
        assert!(m(json!({"missing": {"nin": [1]}}), doc));
    }

    #[test]
    fn any_of_and_not() {
        let doc = json!({"lang": "en", "year": 2019});
        assert!(m(json!({"anyOf": [{"lang": "de"}, {"year": {"lt": 2020}}]}), doc.clone()));
        assert!(!m(json!({"anyOf": [{"lang": "de"}, {"year": {"gt": 2020}}]}), doc.clone()));
        assert!(m(json!({"not": {"lang": "de"}}), doc.clone()));
        assert!(!m(json!({"not": {"lang": "en"}}), doc));
    }

    #[test]
    fn documents_without_metadata() {
        let f = Filter::parse(&json!({"lang": "en"})).unwrap();
        assert!(!f.matches(None));
        assert!(Filter::parse(&json!({"lang": {"exists": false}})).unwrap().matches(None));
        assert!(Filter::parse(&json!({})).unwrap().matches(None), "an empty filter passes everything");
    }

    #[test]
    fn malformed_filters_are_errors_that_say_why() {
        for (f, needle) in [
            (json!([1]), "must be an object"),
            (json!({"x": {"between": [1, 2]}}), "unknown operator `between`"),
            (json!({"x": {}}), "empty condition"),
            (json!({"x": {"gt": [1]}}), "number or a string"),
            (json!({"x": {"in": 3}}), "must be an array"),
            (json!({"x": {"exists": 1}}), "true or false"),
            (json!({"a..b": 1}), "dotted"),
            (json!({"anyOf": []}), "non-empty"),
            (json!({"x": [{"y": 1}]}), "string, number"),
        ] {
            let e = Filter::parse(&f).unwrap_err().to_string();
            assert!(e.contains(needle), "{f}: {e}");
        }
    }
}
