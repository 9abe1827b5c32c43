//! The index's byte format: versioned, checksummed, tied to the embedding model's fingerprint.

use super::{Document, VectorIndex};
use crate::bm25::{Bm25Index, Bm25Params, Stemmer};
use crate::error::{Error, Result};
use crate::kernels::quantize_i8;

const MAGIC: &[u8; 8] = b"MRNKIDX\0";
/// Version 2 adds the parent id of each document and the BM25 settings (k1, b, a flags word:
/// see `bm25_flags`); version 1 is still read.
const VERSION: u32 = 2;
pub(super) const HEADER: usize = 8 + 4 * 4;

impl VectorIndex {
    /// Serialize: magic, version, dimension, count, fingerprint, BM25 settings (k1, b, flags),
    /// documents (id, text, metadata JSON, parent id), vectors, CRC-32. The BM25 postings are
    /// not stored: they are rebuilt from the texts on load.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode(VERSION)
    }

    /// The bytes of format `version` (1 lacks the BM25 settings and parents; tests write it).
    pub(super) fn encode(&self, version: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 12 + self.vectors.len() * 4 + self.docs.len() * 64);
        out.extend_from_slice(MAGIC);
        for x in [version, self.dim as u32, self.docs.len() as u32, self.fingerprint] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        if version >= 2 {
            let p = self.bm25_params;
            for x in [p.k1.to_bits(), p.b.to_bits(), bm25_flags(&p)] {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        for d in &self.docs {
            let meta = d.metadata.as_ref().map(|m| m.to_string()).unwrap_or_default();
            let parent = d.parent.as_deref().unwrap_or("");
            let fields = [d.id.as_bytes(), d.text.as_bytes(), meta.as_bytes(), parent.as_bytes()];
            for field in &fields[..if version >= 2 { 4 } else { 3 }] {
                out.extend_from_slice(&(field.len() as u32).to_le_bytes());
                out.extend_from_slice(field);
            }
        }
        for x in &self.vectors {
            out.extend_from_slice(&x.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Restore from [`to_bytes`](Self::to_bytes) output. `expect` gives the dimension and model
    /// fingerprint the caller needs (fingerprint 0 accepts any).
    pub fn from_bytes(bytes: &[u8], expect: Option<(usize, u32)>) -> Result<Self> {
        let bad = |reason: String| Error::CorruptIndex { reason };
        if bytes.len() < HEADER + 4 {
            return Err(bad(format!("{} bytes is shorter than the header", bytes.len())));
        }
        if &bytes[..8] != MAGIC {
            return Err(bad("not a minirank index (bad magic bytes)".into()));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        let mut r = Reader { bytes: body, pos: 8 };
        let version = r.u32()?;
        if version != VERSION && version != 1 {
            return Err(bad(format!("format version {version} is not supported (this build reads 1 and {VERSION})")));
        }
        let stored_crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(body) != stored_crc {
            return Err(bad("checksum mismatch: the bytes are corrupted or truncated".into()));
        }
        let dim = r.u32()? as usize;
        let count = r.u32()? as usize;
        let fingerprint = r.u32()?;
        if dim == 0 {
            return Err(bad("dimension 0".into()));
        }
        if let Some((want_dim, want_fp)) = expect {
            if dim != want_dim {
                return Err(Error::DimensionMismatch { expected: want_dim, actual: dim });
            }
            if want_fp != 0 && fingerprint != 0 && fingerprint != want_fp {
                return Err(bad(format!(
                    "it was built with another embedding model (fingerprint {fingerprint:08x}, this one is {want_fp:08x})"
                )));
            }
        }
        let mut params = Bm25Params::default();
        if version >= 2 {
            params.k1 = f32::from_bits(r.u32()?);
            params.b = f32::from_bits(r.u32()?);
            let flags = r.u32()?;
            params.stop_words = flags & 1 == 1;
            params.stemmer = (flags & 2 == 2).then_some(Stemmer::English);
            params.validate().map_err(|e| bad(format!("BM25 settings: {e}")))?;
        }
        let fields = if version >= 2 { 4 } else { 3 };
        // every document takes at least 4 bytes per field and 4*dim of vector
        if count.saturating_mul(4 * fields + 4 * dim) > body.len() {
            return Err(bad(format!("{count} documents cannot fit in {} bytes", body.len())));
        }
        let mut index = VectorIndex::new(dim, fingerprint);
        index.bm25 = Bm25Index::new(params.analyzer());
        index.bm25_params = params;
        index.docs.reserve(count);
        for _ in 0..count {
            let id = r.string()?;
            let text = r.string()?;
            let meta = r.string()?;
            let parent = if version >= 2 { Some(r.string()?).filter(|p| !p.is_empty()) } else { None };
            let metadata = if meta.is_empty() {
                None
            } else {
                Some(serde_json::from_str(&meta).map_err(|e| bad(format!("metadata of {id:?}: {e}")))?)
            };
            if index.slots.insert(id.clone(), index.docs.len()).is_some() {
                return Err(bad(format!("duplicate id {id:?}")));
            }
            index.bm25.set(index.docs.len(), &text);
            index.docs.push(Document { id, text, metadata, parent });
        }
        let need = count * dim * 4;
        if body.len() - r.pos != need {
            return Err(bad(format!("expected {need} bytes of vectors, found {}", body.len() - r.pos)));
        }
        index.vectors = body[r.pos..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if index.vectors.iter().any(|x| !x.is_finite()) {
            return Err(bad("vectors contain NaN or infinite values".into()));
        }
        index.codes = vec![0; index.vectors.len()];
        index.scales = index
            .vectors
            .chunks_exact(dim)
            .zip(index.codes.chunks_exact_mut(dim))
            .map(|(v, c)| quantize_i8(v, c))
            .collect();
        Ok(index)
    }
}

fn bm25_flags(p: &Bm25Params) -> u32 {
    p.stop_words as u32 | ((p.stemmer == Some(Stemmer::English)) as u32 * 2)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| Error::CorruptIndex {
            reason: format!("truncated: wanted {n} bytes at offset {}", self.pos),
        })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| Error::CorruptIndex { reason: "a string is not valid UTF-8".into() })
    }
}
