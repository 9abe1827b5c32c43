//! Sentence embeddings: a BERT-family encoder, pooling (the mean over the attention mask, or the
//! first token's state), L2 norm.

use crate::error::{Error, ModelRole, Result};
use crate::kernels::{l2_normalize, masked_mean};
use crate::model::encoder::{LoadedModel, ModelFiles, OutputKind, Pooling};

/// Default token budget per text (all-MiniLM-L6-v2 was trained with 256).
pub const DEFAULT_EMBED_MAX_LENGTH: usize = 256;
/// Default texts per forward pass.
pub const DEFAULT_EMBED_BATCH_SIZE: usize = 32;

/// Mixed into the fingerprint of a bi-encoder that pools by its first token ("CLS!").
const CLS_FINGERPRINT: u32 = u32::from_be_bytes(*b"CLS!");

/// A sentence-embedding model (e.g. all-MiniLM-L6-v2): text → unit vector.
#[derive(Debug)]
pub struct BiEncoder {
    model: LoadedModel,
    max_length: usize,
    batch_size: usize,
}

impl BiEncoder {
    /// Load from bytes. The graph must output `[batch, sequence, hidden]` token states.
    pub fn from_bytes(files: ModelFiles<'_>) -> Result<Self> {
        let model = LoadedModel::load(ModelRole::BiEncoder, files, OutputKind::TokenStates)?;
        let max_length = DEFAULT_EMBED_MAX_LENGTH.min(model.max_positions);
        Ok(Self { model, max_length, batch_size: DEFAULT_EMBED_BATCH_SIZE })
    }

    /// Embedding dimension.
    pub fn dim(&self) -> usize {
        self.model.encoder.width()
    }

    /// CRC-32 of the model's ONNX file (of the file an NNEF model was converted from), changed
    /// for a pooling other than mean: saved indexes record it, and refuse to load with another
    /// bi-encoder or the same one pooling otherwise.
    pub fn fingerprint(&self) -> u32 {
        // always there for a bi-encoder; 0 is the index's "unknown"
        let crc = self.model.encoder.info().fingerprint.unwrap_or(0);
        match self.model.pooling {
            Pooling::Mean => crc,
            Pooling::Cls => crc ^ CLS_FINGERPRINT,
        }
    }

    /// How token states become the vector.
    pub fn pooling(&self) -> Pooling {
        self.model.pooling
    }

    /// Token budget per text (longer texts are truncated).
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Set the token budget per text.
    pub fn set_max_length(&mut self, max_length: usize) -> Result<()> {
        self.max_length = self.model.check_max_length("maxLength", max_length)?;
        Ok(())
    }

    /// Set how many texts go through the model at once (1..=1024).
    pub fn set_batch_size(&mut self, batch_size: usize) -> Result<()> {
        if batch_size == 0 || batch_size > 1024 {
            crate::error::bail_option!("batchSize", "must be between 1 and 1024, got {batch_size}");
        }
        self.batch_size = batch_size;
        Ok(())
    }

    /// Run batches on this many threads (native builds; 1 by default, always 1 on wasm32).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        self.model.set_threads(threads)
    }

    /// Tokens of `text` without special tokens (what [`max_length`](Self::max_length) minus the
    /// special tokens bounds).
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        self.model.tokenizer.count_tokens(text)
    }

    /// Special tokens the model adds around one text (`[CLS]`, `[SEP]`).
    pub fn special_tokens(&self) -> usize {
        self.model.tokenizer.special_tokens(false)
    }

    /// Embed one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        self.embed(&[text]).map(|mut v| v.pop().unwrap_or_default())
    }

    /// Embed texts; returns one unit-length vector of [`dim`](Self::dim) values per text, in order.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_progress(texts, &mut |_, _| {})
    }

    /// [`embed`](Self::embed), calling `progress(done, total)` after each batch.
    pub fn embed_with_progress<S: AsRef<str>>(
        &self,
        texts: &[S],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<f32>>> {
        let mut encodings = texts
            .iter()
            .map(|t| self.model.tokenizer.encode(t.as_ref(), self.max_length))
            .collect::<Result<Vec<_>>>()?;
        let hidden = self.dim();
        let total = texts.len();
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); total];
        let mut done = 0;
        self.model.run_sorted(&mut encodings, self.batch_size, |idx, batch, data, shape| {
            if shape != [batch.batch, batch.seq, hidden] {
                return Err(Error::Inference {
                    role: ModelRole::BiEncoder,
                    reason: format!("output shape {shape:?}, expected [{}, {}, {hidden}]", batch.batch, batch.seq),
                });
            }
            for (row, &i) in idx.iter().enumerate() {
                let states = &data[row * batch.seq * hidden..(row + 1) * batch.seq * hidden];
                let mask = &batch.mask[row * batch.seq..(row + 1) * batch.seq];
                let mut v = match self.model.pooling {
                    Pooling::Mean => masked_mean(states, mask, hidden),
                    Pooling::Cls => states[..hidden].to_vec(),
                };
                l2_normalize(&mut v);
                out[i] = v;
            }
            done += idx.len();
            progress(done, total);
            Ok(())
        })?;
        Ok(out)
    }
}
