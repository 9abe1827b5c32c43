//! Batches: encodings sorted by length into padded batches within a token budget, run on one
//! thread or several.

use crate::error::Result;
use crate::model::encoder::LoadedModel;
use crate::tokenize::Encoded;

/// A batch padded to its longest member.
pub(crate) struct PaddedBatch {
    pub batch: usize,
    pub seq: usize,
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
    pub type_ids: Vec<i64>,
}

impl PaddedBatch {
    /// Pad `items` to the longest one (the tokenizer's `pad_id`, mask 0, segment 0).
    pub fn new(items: &[&Encoded], pad_id: u32) -> Self {
        let seq = items.iter().map(|e| e.len()).max().unwrap_or(0);
        let batch = items.len();
        let mut ids = vec![i64::from(pad_id); batch * seq];
        let mut mask = vec![0i64; batch * seq];
        let mut type_ids = vec![0i64; batch * seq];
        for (row, e) in items.iter().enumerate() {
            let base = row * seq;
            for (j, (&id, &tt)) in e.ids.iter().zip(&e.type_ids).enumerate() {
                ids[base + j] = i64::from(id);
                mask[base + j] = 1;
                type_ids[base + j] = i64::from(tt);
            }
        }
        Self { batch, seq, ids, mask, type_ids }
    }
}

/// Indices of rows of these lengths in batches: shortest first (each batch pads little), at most
/// `batch_size` rows and `budget` tokens (rows × the longest) per batch; a row longer than the
/// budget runs alone.
fn token_batches(lengths: &[usize], batch_size: usize, budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for i in order {
        // sorted by length: the new row is the batch's longest, so it sets the padded length
        let fits = batches.last().is_some_and(|b| b.len() < batch_size.max(1) && (b.len() + 1) * lengths[i] <= budget);
        match batches.last_mut() {
            Some(b) if fits => b.push(i),
            _ => batches.push(vec![i]),
        }
    }
    batches
}

/// At most this many tokens (rows × padded length) per forward pass, whatever the batch size (a
/// single longer row still runs alone). Attention holds `rows × heads × length²` scores, and wasm
/// memory never shrinks: a smaller budget lowered the peak memory of embedding and was faster too
/// (`benches/memory.rs`; docs/performance.md, "Measurements behind the code").
pub(crate) const BATCH_TOKEN_BUDGET: usize = 512;

impl LoadedModel {
    /// Set how many threads run batches (1..=64; wasm32 always uses 1).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        if threads == 0 || threads > 64 {
            crate::error::bail_option!("threads", "must be between 1 and 64, got {threads}");
        }
        self.threads = threads;
        Ok(())
    }

    /// The batches `run_sorted` runs: indices of `encodings`, shortest first, at most
    /// `batch_size` each. Type ids are zeroed first for a model without a second segment row.
    fn sorted_batches(&self, encodings: &mut [crate::tokenize::Encoded], batch_size: usize) -> Vec<Vec<usize>> {
        if self.type_rows < 2 {
            encodings.iter_mut().for_each(|e| e.type_ids.iter_mut().for_each(|t| *t = 0));
        }
        token_batches(&encodings.iter().map(|e| e.len()).collect::<Vec<_>>(), batch_size, BATCH_TOKEN_BUDGET)
    }

    /// The batches `run_sorted` would run for `encodings`, each as the token counts of its rows
    /// (shortest first; the last is the padded length of the batch): how much of a forward pass is
    /// padding (used by the native benchmark).
    pub fn batch_lengths(&self, encodings: &mut [crate::tokenize::Encoded], batch_size: usize) -> Vec<Vec<usize>> {
        let lengths: Vec<usize> = encodings.iter().map(|e| e.len()).collect();
        self.sorted_batches(encodings, batch_size)
            .into_iter()
            .map(|b| b.iter().map(|&i| lengths[i]).collect())
            .collect()
    }

    /// Milliseconds per operator kind over the batches `run_sorted` would run (one thread,
    /// native builds), most expensive first.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn profile_sorted(
        &self,
        encodings: &mut [crate::tokenize::Encoded],
        batch_size: usize,
    ) -> Result<Vec<(String, f64)>> {
        let mut times = std::collections::HashMap::new();
        for idx in self.sorted_batches(encodings, batch_size) {
            let batch =
                PaddedBatch::new(&idx.iter().map(|&i| &encodings[i]).collect::<Vec<_>>(), self.tokenizer.pad_id());
            self.encoder.profile(&batch, &mut times)?;
        }
        let mut out: Vec<(String, f64)> = times.into_iter().map(|(k, d)| (k, d.as_secs_f64() * 1e3)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }

    /// Run `encodings` in batches of at most `batch_size`, shortest first so that each batch pads
    /// little; `each` receives the original indices of the batch's rows, the batch and the output.
    /// With `threads > 1` (native builds only) batches run on that many threads; `each` is still
    /// called on the caller's thread, in batch order.
    pub fn run_sorted(
        &self,
        encodings: &mut [crate::tokenize::Encoded],
        batch_size: usize,
        mut each: impl FnMut(&[usize], &PaddedBatch, &[f32], &[usize]) -> Result<()>,
    ) -> Result<()> {
        let batches = self.sorted_batches(encodings, batch_size);
        let chunks: Vec<&[usize]> = batches.iter().map(Vec::as_slice).collect();
        let pad_id = self.tokenizer.pad_id();
        let pad = |idx: &[usize]| PaddedBatch::new(&idx.iter().map(|&i| &encodings[i]).collect::<Vec<_>>(), pad_id);
        let threads = if cfg!(target_arch = "wasm32") { 1 } else { self.threads.clamp(1, chunks.len().max(1)) };
        if threads == 1 {
            for idx in &chunks {
                let batch = pad(idx);
                self.encoder.run(&batch, |data, shape| each(idx, &batch, data, shape))??;
            }
            return Ok(());
        }
        // Workers take batches in turn; results are handed to `each` in order.
        type Out = Result<(PaddedBatch, Vec<f32>, Vec<usize>)>;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Out>>> = chunks.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(idx) = chunks.get(b) else { break };
                    let batch = pad(idx);
                    let out = self
                        .encoder
                        .run(&batch, |data, shape| (data.to_vec(), shape.to_vec()))
                        .map(|(d, s)| (batch, d, s));
                    let failed = out.is_err();
                    *results[b].lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
                    if failed {
                        next.store(chunks.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        for (idx, slot) in chunks.iter().zip(results) {
            match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(Ok((batch, data, shape))) => each(idx, &batch, &data, &shape)?,
                Some(Err(e)) => return Err(e),
                None => break, // skipped after an earlier batch failed; that error was returned above
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_batch_pads_to_longest() {
        let a = Encoded { ids: vec![101, 7, 102], type_ids: vec![0, 0, 0] };
        let b = Encoded { ids: vec![101, 102], type_ids: vec![0, 1] };
        let p = PaddedBatch::new(&[&a, &b], 0);
        assert_eq!((p.batch, p.seq), (2, 3));
        assert_eq!(p.ids, vec![101, 7, 102, 101, 102, 0]);
        assert_eq!(p.mask, vec![1, 1, 1, 1, 1, 0]);
        assert_eq!(p.type_ids, vec![0, 0, 0, 0, 1, 0]);
        // RoBERTa pads with <pad> = 1
        assert_eq!(PaddedBatch::new(&[&a, &b], 1).ids, vec![101, 7, 102, 101, 102, 1]);
    }

    #[test]
    fn batches_hold_at_most_the_batch_size_and_the_token_budget() {
        // short rows fill the batch size; long rows fill the token budget; a row over it runs alone
        assert_eq!(token_batches(&[10, 10, 10, 10, 10], 2, 512), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(token_batches(&[256, 30, 256, 256, 40], 16, 512), vec![vec![1, 4], vec![0, 2], vec![3]]);
        assert_eq!(token_batches(&[600, 5], 16, 512), vec![vec![1], vec![0]]);
        let lengths: Vec<usize> = (0..200).map(|i| 1 + (i * 37) % 256).collect();
        let batches = token_batches(&lengths, 16, BATCH_TOKEN_BUDGET);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..200).collect::<Vec<_>>(), "every row once");
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(b.len() <= 16 && (b.len() == 1 || b.len() * longest <= BATCH_TOKEN_BUDGET), "{b:?}");
        }
    }
}
