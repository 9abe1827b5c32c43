//! Long documents: split into overlapping passages on sentence boundaries, and fold passage
//! results back into their parent documents.
//!
//! A document longer than [`Chunking::max_tokens`] becomes passages `"{id}#0"`, `"{id}#1"`, ...
//! each with `parent = id` and the document's metadata. Consecutive passages share
//! [`Chunking::overlap_sentences`] sentences, so a sentence near a cut is whole in at least one
//! passage and the tail of the document is indexed too (instead of being truncated away).
//! A sentence longer than the budget on its own is cut between words.

use crate::error::{bail_option, Result};
use crate::hits::RerankedHit;
use crate::index::Document;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How to split long documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Chunking {
    /// Most tokens per passage (special tokens not counted); documents within it stay whole.
    pub max_tokens: usize,
    /// Sentences repeated at the start of the next passage.
    pub overlap_sentences: usize,
}

impl Default for Chunking {
    fn default() -> Self {
        Self { max_tokens: 200, overlap_sentences: 1 }
    }
}

impl Chunking {
    /// Check against the model's token budget per text (`limit`, special tokens excluded).
    pub fn validate(&self, limit: usize) -> Result<()> {
        if self.max_tokens < 8 || self.max_tokens > limit {
            bail_option!(
                "chunking.maxTokens",
                "must be between 8 and {limit} (the embedding model's budget), got {}",
                self.max_tokens
            );
        }
        if self.overlap_sentences > 8 {
            bail_option!("chunking.overlapSentences", "must be at most 8, got {}", self.overlap_sentences);
        }
        Ok(())
    }
}

/// How parent documents are scored from their passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParentScore {
    /// The best passage's ranking score.
    Max,
    /// The sum of the passages' sigmoid scores (documents relevant in many places rise).
    Sum,
}

/// Sentences of `text`, trimmed: cut after `.`, `!`, `?`, `…` (and CJK full stops) followed by
/// whitespace, and at line breaks.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let end = match c {
            '\n' => Some(i),
            '.' | '!' | '?' | '…' => next.is_none_or(char::is_whitespace).then_some(i + c.len_utf8()),
            '。' | '！' | '？' => Some(i + c.len_utf8()),
            _ => None,
        };
        if let Some(end) = end {
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = end;
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// Cut a sentence longer than `max_tokens` into runs of words within it.
fn split_long(
    sentence: &str,
    max_tokens: usize,
    count: &dyn Fn(&str) -> Result<usize>,
) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    let (mut cur, mut cur_tokens) = (String::new(), 0);
    for word in sentence.split_whitespace() {
        let n = count(word)?;
        if cur_tokens + n > max_tokens && !cur.is_empty() {
            out.push((std::mem::take(&mut cur), cur_tokens));
            cur_tokens = 0;
        }
        // a single word over the budget is kept whole: the model truncates it
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        cur_tokens += n;
    }
    if !cur.is_empty() {
        out.push((cur, cur_tokens));
    }
    Ok(out)
}

/// Passages of `text` within `chunking.max_tokens`, using `count` to count tokens.
pub fn passages(text: &str, chunking: &Chunking, count: &dyn Fn(&str) -> Result<usize>) -> Result<Vec<String>> {
    let mut units: Vec<(String, usize)> = Vec::new();
    for s in split_sentences(text) {
        let n = count(s)?;
        if n > chunking.max_tokens {
            units.extend(split_long(s, chunking.max_tokens, count)?);
        } else {
            units.push((s.to_owned(), n));
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < units.len() {
        let mut end = start;
        let mut tokens = 0;
        while end < units.len() && (end == start || tokens + units[end].1 <= chunking.max_tokens) {
            tokens += units[end].1;
            end += 1;
        }
        out.push(units[start..end].iter().map(|u| u.0.as_str()).collect::<Vec<_>>().join(" "));
        if end == units.len() {
            break;
        }
        // step back for the overlap, but always move forward by at least one unit
        start = end.saturating_sub(chunking.overlap_sentences).max(start + 1);
    }
    Ok(out)
}

/// `doc` itself when it fits in `chunking.max_tokens`, else its passages (`id#n`, parent `id`).
pub fn split_document(
    doc: Document,
    chunking: &Chunking,
    count: &dyn Fn(&str) -> Result<usize>,
) -> Result<Vec<Document>> {
    if count(&doc.text)? <= chunking.max_tokens {
        return Ok(vec![doc]);
    }
    let parts = passages(&doc.text, chunking, count)?;
    Ok(parts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Document {
            id: format!("{}#{i}", doc.id),
            text,
            metadata: doc.metadata.clone(),
            parent: Some(doc.id.clone()),
        })
        .collect())
}

/// Fold passage hits (already in ranking order) into one hit per parent document: the best
/// passage stands for its parent (`id` becomes the parent id, `passages` lists the passage ids
/// best first), ordered by `mode`. Hits without a parent stand for themselves.
pub fn group_by_parent(hits: Vec<RerankedHit>, mode: ParentScore) -> Vec<RerankedHit> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, (RerankedHit, Vec<String>, f32)> = HashMap::new();
    for h in hits {
        let key = h.group_id().to_owned();
        let value = match mode {
            ParentScore::Max => h.ranking_score(),
            ParentScore::Sum => h.score,
        };
        match groups.get_mut(&key) {
            Some((_, ids, agg)) => {
                ids.push(h.id.clone());
                if mode == ParentScore::Sum {
                    *agg += value;
                }
            }
            None => {
                order.push(key.clone());
                let ids = vec![h.id.clone()];
                groups.insert(key, (h, ids, value));
            }
        }
    }
    let mut out: Vec<(RerankedHit, f32)> = order
        .into_iter()
        .filter_map(|key| {
            let (mut h, ids, agg) = groups.remove(&key)?;
            if h.parent.is_some() {
                h.passages = Some(ids);
                h.id = key;
            }
            h.parent_score = Some(agg);
            Some((h, agg))
        })
        .collect();
    // stable: ties keep the order of their best passages
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.into_iter().map(|(h, _)| h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Result<usize> {
        Ok(s.split_whitespace().count())
    }

    #[test]
    fn sentences_split_on_terminators_and_lines() {
        assert_eq!(split_sentences("One. Two! Three? Four"), ["One.", "Two!", "Three?", "Four"]);
        assert_eq!(split_sentences("Version 3.12 is out. Yes"), ["Version 3.12 is out.", "Yes"]);
        assert_eq!(split_sentences("Title\n\nBody text.\n"), ["Title", "Body text."]);
        assert_eq!(split_sentences("東京です。大阪です。"), ["東京です。", "大阪です。"]);
        assert!(split_sentences("  \n ").is_empty());
    }

    #[test]
    fn passages_fit_overlap_and_keep_the_tail() {
        let text = "a b c. d e f. g h i. j k l. m n o.";
        let c = Chunking { max_tokens: 6, overlap_sentences: 1 };
        let p = passages(text, &c, &words).unwrap();
        assert_eq!(p, ["a b c. d e f.", "d e f. g h i.", "g h i. j k l.", "j k l. m n o."]);
        let c0 = Chunking { max_tokens: 6, overlap_sentences: 0 };
        assert_eq!(passages(text, &c0, &words).unwrap(), ["a b c. d e f.", "g h i. j k l.", "m n o."]);
        for passage in &p {
            assert!(words(passage).unwrap() <= 6);
        }
        assert!(p.last().unwrap().ends_with("m n o."), "the tail is indexed");
    }

    #[test]
    fn overlap_larger_than_a_passage_still_progresses() {
        let text = "a b c d. e f g h. i j k l.";
        let c = Chunking { max_tokens: 4, overlap_sentences: 3 };
        assert_eq!(passages(text, &c, &words).unwrap(), ["a b c d.", "e f g h.", "i j k l."]);
    }

    #[test]
    fn over_long_sentences_are_cut_between_words() {
        let text = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10. Short one.";
        let p = passages(text, &Chunking { max_tokens: 4, overlap_sentences: 0 }, &words).unwrap();
        assert_eq!(p, ["w1 w2 w3 w4", "w5 w6 w7 w8", "w9 w10. Short one."]);
    }

    #[test]
    fn documents_get_passage_ids_and_parent() {
        let doc = Document::new("d", "a b c. d e f. g h i.").with_metadata(serde_json::json!({"k": 1}));
        let c = Chunking { max_tokens: 6, overlap_sentences: 0 };
        let parts = split_document(doc.clone(), &c, &words).unwrap();
        assert_eq!(parts.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d#0", "d#1"]);
        assert!(parts.iter().all(|p| p.parent.as_deref() == Some("d") && p.metadata == doc.metadata));
        let short = Document::new("s", "a b c.");
        assert_eq!(split_document(short.clone(), &c, &words).unwrap(), vec![short]);
    }

    #[test]
    fn limits_are_checked() {
        assert!(Chunking { max_tokens: 4, overlap_sentences: 0 }.validate(254).is_err());
        assert!(Chunking { max_tokens: 300, overlap_sentences: 0 }.validate(254).is_err());
        assert!(Chunking { max_tokens: 200, overlap_sentences: 9 }.validate(254).is_err());
        Chunking::default().validate(254).unwrap();
    }
}
