//! Option objects read from JSON-like values (what JavaScript passes, what the CLI reads): serde
//! straight into the option structs, with the camelCase path of a field that does not fit
//! (`signals.freshness.halfLifeDay`) as the [`Error::InvalidOption`] name.
//!
//! The structs' own `serde` attributes are the schema (`rename_all = "camelCase"`,
//! `deny_unknown_fields`, `default`); nothing here lists their fields. A struct made of parts
//! that share one flat object (`SearchOptions` = pool part + rerank part) uses [`split`], which
//! asks each part's `Deserialize` for its field names ([`field_names`]).

use crate::error::{Error, Result};
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `value` as a `T`. A field that does not fit is named by its path under `prefix` (`""` for
/// a top-level options object, `"bm25"` for the object given to `setBm25`, ...).
pub fn from_value<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let name = match (prefix.is_empty(), path == ".") {
            (true, true) => "options".to_owned(),
            (true, false) => path,
            (false, true) => prefix.to_owned(),
            (false, false) => format!("{prefix}.{path}"),
        };
        Error::invalid_option(name, e.into_inner().to_string())
    })
}

/// `current` with the fields that the object `patch` gives replaced (the others keep their
/// value); `null` keeps `current` whole.
pub fn patched<T: Serialize + DeserializeOwned>(prefix: &str, current: &T, patch: Value) -> Result<T> {
    let mut merged =
        serde_json::to_value(current).map_err(|e| Error::invalid_option(prefix.to_owned(), e.to_string()))?;
    match (&mut merged, patch) {
        (_, Value::Null) => {}
        (Value::Object(m), Value::Object(p)) => m.extend(p),
        (_, other) => {
            return Err(Error::invalid_option(
                prefix.to_owned(),
                format!("must be an object, got {}", json_type(&other)),
            ))
        }
    }
    from_value(prefix, merged)
}

/// Split the flat options object `value` between the parts of a composite options struct:
/// entry `i` of the result holds the keys that `parts[i]` names (see [`field_names`]). A key no
/// part names is refused, naming the key and every accepted one.
pub fn split(value: Value, parts: &[&'static [&'static str]]) -> Result<Vec<Value>> {
    let map = match value {
        Value::Null => Map::new(),
        Value::Object(m) => m,
        other => return Err(Error::invalid_option("options", format!("must be an object, got {}", json_type(&other)))),
    };
    let mut out: Vec<Map<String, Value>> = vec![Map::new(); parts.len()];
    for (key, v) in map {
        match parts.iter().position(|fields| fields.contains(&key.as_str())) {
            Some(i) => {
                out[i].insert(key, v);
            }
            None => {
                let all: Vec<&str> = parts.iter().flat_map(|f| f.iter().copied()).collect();
                return Err(Error::invalid_option(
                    key.clone(),
                    format!("unknown option `{key}` (expected one of: {})", all.join(", ")),
                ));
            }
        }
    }
    Ok(out.into_iter().map(Value::Object).collect())
}

/// The field names (as serialized) that a struct's derived `Deserialize` accepts: what serde
/// passes to `Deserializer::deserialize_struct`. Empty for anything that is not such a struct.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut probe = FieldsProbe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

struct FieldsProbe(&'static [&'static str]);

impl<'de> de::Deserializer<'de> for &mut FieldsProbe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> std::result::Result<V::Value, Self::Error> {
        Err(de::Error::custom("field probe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("field probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// An id given as a string or a number (`7` → `"7"`; a whole number prints without `.0`).
pub fn id<'de, D: de::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        other => Err(de::Error::custom(format!("must be a string or a number, got {}", json_type(&other)))),
    }
}

/// [`id`], or `None` for `null`.
pub fn optional_id<'de, D: de::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v => id(v).map(Some).map_err(de::Error::custom),
    }
}

/// The JSON kind of a value, for messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, rename_all = "camelCase", deny_unknown_fields)]
    struct Inner {
        half_life_days: f64,
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, rename_all = "camelCase", deny_unknown_fields)]
    struct Outer {
        top_k: Option<usize>,
        inner: Option<Inner>,
    }

    #[test]
    fn errors_name_the_camel_case_path_of_the_field() {
        let e = from_value::<Outer>("", json!({"inner": {"halfLifeDay": 1}})).unwrap_err();
        assert_eq!(e.option(), Some("inner.halfLifeDay"));
        assert!(e.to_string().contains("halfLifeDays"), "{e}");
        let e = from_value::<Outer>("signals", json!({"topK": "x"})).unwrap_err();
        assert_eq!(e.option(), Some("signals.topK"));
        assert_eq!(from_value::<Outer>("", json!("x")).unwrap_err().option(), Some("options"));
        assert_eq!(from_value::<Outer>("", json!({"topK": 3})).unwrap(), Outer { top_k: Some(3), inner: None });
    }

    #[test]
    fn patch_keeps_fields_not_given() {
        let cur = Outer { top_k: Some(2), inner: Some(Inner { half_life_days: 3.0 }) };
        let p: Outer = patched("x", &cur, json!({"topK": 5})).unwrap();
        assert_eq!(p, Outer { top_k: Some(5), inner: Some(Inner { half_life_days: 3.0 }) });
        assert_eq!(patched::<Outer>("x", &cur, Value::Null).unwrap(), cur);
        assert_eq!(patched::<Outer>("x", &cur, json!([1])).unwrap_err().option(), Some("x"));
        assert_eq!(patched::<Outer>("x", &cur, json!({"nope": 1})).unwrap_err().option(), Some("x.nope"));
    }

    #[test]
    fn field_names_come_from_the_derive_and_split_uses_them() {
        assert_eq!(field_names::<Outer>(), &["topK", "inner"]);
        assert_eq!(field_names::<Inner>(), &["halfLifeDays"]);
        assert!(field_names::<usize>().is_empty());
        let parts =
            split(json!({"topK": 1, "halfLifeDays": 2}), &[field_names::<Outer>(), field_names::<Inner>()]).unwrap();
        assert_eq!(parts, vec![json!({"topK": 1}), json!({"halfLifeDays": 2})]);
        let e = split(json!({"topk": 1}), &[field_names::<Outer>()]).unwrap_err();
        assert_eq!(e.option(), Some("topk"));
        assert!(e.to_string().contains("unknown option `topk`") && e.to_string().contains("topK"), "{e}");
        assert_eq!(split(json!(3), &[]).unwrap_err().option(), Some("options"));
    }
}
