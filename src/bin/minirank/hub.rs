//! Models by Hugging Face Hub id (`--cross-encoder Xenova/ms-marco-MiniLM-L-6-v2 --dtype q8`): the
//! files of `{hub}/{id}/resolve/{revision}/`, named as transformers.js and the npm package name
//! them (`onnx/model{,_fp16,_quantized,_int8,_uint8,...}.onnx`, `tokenizer.json`, `config.json`,
//! a bi-encoder's `1_Pooling/config.json`), downloaded once into the Hub's own cache layout
//! (hf-hub: `$HF_HOME/hub/models--owner--name/`, shared with Python's `huggingface_hub`).

use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};
use hf_hub::{Repo, RepoType};
use minirank::{Error, Result};

/// The dtypes of a Hub repository's `onnx/` folder and their files, as transformers.js names them.
pub const DTYPES: [(&str, &str); 8] = [
    ("fp32", "model.onnx"),
    ("fp16", "model_fp16.onnx"),
    ("q8", "model_quantized.onnx"),
    ("int8", "model_int8.onnx"),
    ("uint8", "model_uint8.onnx"),
    ("q4", "model_q4.onnx"),
    ("q4f16", "model_q4f16.onnx"),
    ("bnb4", "model_bnb4.onnx"),
];

/// Where and how Hub models are fetched.
pub struct Hub {
    /// `--hub-url`, else `HF_ENDPOINT`, else https://huggingface.co.
    pub endpoint: Option<String>,
    /// Branch, tag or commit.
    pub revision: String,
}

/// The files of one model.
pub struct HubFiles {
    pub model: Vec<u8>,
    pub tokenizer: Vec<u8>,
    pub config: Option<Vec<u8>>,
    pub pooling: Option<Vec<u8>>,
}

/// Whether `s` reads as a Hub id (`owner/name`) rather than a path.
pub fn is_id(s: &str) -> bool {
    let mut parts = s.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty() && p != "." && p != ".." && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// The file `onnx/…` of `dtype`, or an error listing the dtypes there are.
pub fn dtype_file(dtype: &str) -> Result<&'static str> {
    DTYPES.iter().find(|(d, _)| *d == dtype).map(|(_, f)| *f).ok_or_else(|| Error::InvalidOption {
        name: "--dtype".into(),
        reason: format!(
            "{dtype:?} is not a dtype (one of: {})",
            DTYPES.iter().map(|(d, _)| *d).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// `--dtype` for one model (`folder`: `bi-encoder` or `cross-encoder`): one dtype for both, or
/// `bi-encoder=fp32,cross-encoder=q8` (a model left out: q8).
pub fn dtype_of(arg: &str, folder: &str) -> Result<String> {
    if !arg.contains('=') {
        return Ok(arg.trim().to_string());
    }
    let mut dtype = "q8".to_string();
    for part in arg.split(',') {
        match part.split_once('=') {
            Some((role, d)) if role.trim() == folder => dtype = d.trim().to_string(),
            Some((role, _)) if ["bi-encoder", "cross-encoder"].contains(&role.trim()) => {}
            _ => {
                return Err(Error::InvalidOption {
                    name: "--dtype".into(),
                    reason: format!("{part:?} is not bi-encoder=DTYPE or cross-encoder=DTYPE"),
                })
            }
        }
    }
    Ok(dtype)
}

impl Hub {
    /// The files of model `id` in `dtype`; `bi_encoder` also asks for `1_Pooling/config.json`. A
    /// `config.json` or `1_Pooling/config.json` the repository lacks is left out; any other file
    /// it lacks is an error naming the model, the file and the URL (for a missing dtype, with the
    /// dtypes the repository has, where the host lists them).
    pub fn fetch(&self, id: &str, dtype: &str, bi_encoder: bool) -> Result<HubFiles> {
        let file = dtype_file(dtype)?;
        let mut builder = ApiBuilder::from_env().with_progress(false).with_retries(0);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint.trim_end_matches('/').to_string());
        }
        let api = builder.build().map_err(|e| fail(id, "", "", &e))?;
        let repo = api.repo(Repo::with_revision(id.to_string(), RepoType::Model, self.revision.clone()));
        let get = |name: &str| -> Result<Option<Vec<u8>>> {
            match repo.get(name) {
                Ok(path) => std::fs::read(&path)
                    .map(Some)
                    .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() }),
                Err(e) if status(&e) == Some(404) => Ok(None),
                Err(e) => Err(fail(id, name, &repo.url(name), &e)),
            }
        };
        let required = |name: &str, hint: String| -> Result<Vec<u8>> {
            get(name)?.ok_or_else(|| Error::Io {
                path: repo.url(name),
                reason: format!("{id} (revision {}) has no {name}: HTTP 404{hint}", self.revision),
            })
        };
        let model = required(&format!("onnx/{file}"), dtypes_hint(&repo, dtype))?;
        let tokenizer = required("tokenizer.json", String::new())?;
        let config = get("config.json")?;
        let pooling = if bi_encoder { get("1_Pooling/config.json")? } else { None };
        Ok(HubFiles { model, tokenizer, config, pooling })
    }
}

/// The HTTP status of a failed request.
fn status(e: &ApiError) -> Option<u16> {
    match e {
        ApiError::RequestError(e) => match e.as_ref() {
            ureq::Error::Status(code, _) => Some(*code),
            _ => None,
        },
        _ => None,
    }
}

/// A failed download as minirank's error: which model, file and URL, and why.
fn fail(id: &str, name: &str, url: &str, e: &ApiError) -> Error {
    let why = match status(e) {
        Some(401 | 403) => {
            format!("HTTP {}: the repository is gated or private (set HF_TOKEN)", status(e).unwrap_or(0))
        }
        Some(code) => format!("HTTP {code}"),
        None => e.to_string(),
    };
    Error::Io {
        path: if url.is_empty() { id.to_string() } else { url.to_string() },
        reason: format!("{id} {name}: {why}"),
    }
}

/// ", it has the dtypes …" from the repository's file list, where the host has that API.
fn dtypes_hint(repo: &ApiRepo, dtype: &str) -> String {
    let Ok(info) = repo.info() else { return String::new() };
    let files: Vec<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
    let has: Vec<&str> =
        DTYPES.iter().filter(|(_, f)| files.contains(&format!("onnx/{f}").as_str())).map(|(d, _)| *d).collect();
    format!(" (no dtype {dtype:?}; it has the dtypes {})", if has.is_empty() { "none".into() } else { has.join(", ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_paths_are_told_apart() {
        for id in ["Xenova/ms-marco-MiniLM-L-6-v2", "BAAI/bge-small-en-v1.5", "a/b"] {
            assert!(is_id(id), "{id}");
        }
        for path in ["models/cross-encoder/x", "./a/b", "../a/b", "/a/b", "a", "a/", "a b/c", "a/.."] {
            assert!(!is_id(path), "{path}");
        }
        assert_eq!(dtype_file("q8").unwrap(), "model_quantized.onnx");
        assert_eq!(dtype_of("fp16", "bi-encoder").unwrap(), "fp16");
        assert_eq!(dtype_of("bi-encoder=fp32,cross-encoder=int8", "cross-encoder").unwrap(), "int8");
        assert_eq!(dtype_of("cross-encoder=int8", "bi-encoder").unwrap(), "q8");
        assert!(dtype_of("reranker=int8", "bi-encoder").is_err());
        assert!(dtype_file("q3").unwrap_err().to_string().contains("fp32, fp16, q8"));
    }
}
