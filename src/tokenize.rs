//! Text → token ids, with the truncation rules minirank needs.
//!
//! A thin layer over the `tokenizers` crate that:
//! - disables whatever padding/truncation the `tokenizer.json` carries (minirank pads per batch itself);
//! - truncates single texts to a token budget, and (query, document) pairs **document side first**;
//! - bounds the work on huge texts: a 1 MB document is not tokenized in full when only the first
//!   few hundred tokens are kept (see [`TextTokenizer::encode`]); the result is identical to
//!   tokenizing everything and truncating.

use crate::error::{Error, ModelRole, Result};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::{
    AddedToken, DecoderWrapper, Encoding, ModelWrapper, NormalizerWrapper, PostProcessor, PostProcessorWrapper,
    PreTokenizerWrapper, Tokenizer, TokenizerBuilder, TruncationDirection,
};

/// Token ids of one sequence (or pair) with special tokens, ready to batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Segment ids: 0 for the first sequence (query), 1 for the second (document).
    pub type_ids: Vec<u32>,
}

impl Encoded {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A tokenizer loaded from `tokenizer.json` bytes.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Arc<Tokenizer>,
    specials_single: usize,
    specials_pair: usize,
    pad_id: u32,
}

/// Tokenizers parsed in this process, by [`shared_key`], while any model holds them: two models
/// whose `tokenizer.json` differ only in the truncation setting (which minirank replaces) share one
/// parse. The default bi-encoder and cross-encoder do (the same BERT vocabulary, 128 and 256
/// tokens); parsing one is a visible part of a page's load.
static PARSED: Mutex<Vec<Parsed>> = Mutex::new(Vec::new());

/// One entry of [`PARSED`].
struct Parsed {
    key: u64,
    tokenizer: Weak<Tokenizer>,
    /// The padding id that the file named (the setting itself is turned off).
    pad_id: Option<u32>,
}

/// A `tokenizer.json`'s top-level entries, by key (the last of a repeated key, as `tokenizers`
/// reads them); `None` when the bytes are not a JSON object with plain keys.
type Entries<'a> = BTreeMap<&'a str, &'a RawValue>;

fn entries(bytes: &[u8]) -> Option<Entries<'_>> {
    serde_json::from_slice(bytes).ok()
}

/// A 64-bit hash (std's SipHash) of the top-level entries but `truncation`, in key order. Not
/// SHA-256, which costs a visible part of a load in wasm: a page's own models are not each other's
/// adversaries.
fn shared_key(entries: &Entries) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (key, value) in entries.iter().filter(|(key, _)| **key != "truncation") {
        key.hash(&mut hasher);
        value.get().hash(&mut hasher);
    }
    hasher.finish()
}

/// `Tokenizer::from_bytes`, faster for a WordPiece model (BERT's; both default models'): the
/// same tokenizer (unit test: the same serialisation), built from its parts the way `tokenizers`'
/// deserialiser builds it. `tokenizers` reads the `model` entry through an untagged enum, which
/// copies the whole vocabulary into serde's generic buffer and then into a `serde_json::Value`
/// before it builds the model: most of the default tokenizer's parse in a Chromium profile. Here the WordPiece model is read straight from its entry. Anything else (another
/// model, a model without `type`, an error) goes through `Tokenizer::from_bytes`, which then
/// gives its own result or error.
fn parse_tokenizer(bytes: &[u8], entries: Option<&Entries>) -> tokenizers::Result<Tokenizer> {
    match entries.and_then(wordpiece_tokenizer) {
        Some(tokenizer) => Ok(tokenizer),
        None => Tokenizer::from_bytes(bytes),
    }
}

/// An added token as `tokenizer.json` lists it. The `id` is required, as `tokenizers` requires
/// it, and then unused, as there: `add_tokens` takes the vocabulary's id, or the next free one.
#[derive(serde::Deserialize)]
struct AddedTokenWithId {
    #[allow(dead_code)]
    id: u32,
    #[serde(flatten)]
    token: AddedToken,
}

/// The tokenizer of these entries when its model is a WordPiece, as `tokenizers`' deserialiser
/// builds it: parts into a builder, then the added tokens. `None` for anything else.
fn wordpiece_tokenizer(entries: &Entries) -> Option<Tokenizer> {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<&'a str>,
    }
    fn part<T: serde::de::DeserializeOwned>(entries: &Entries, key: &str) -> Option<Option<T>> {
        entries.get(key).map_or(Some(None), |raw| serde_json::from_str(raw.get()).ok())
    }
    let model = entries.get("model")?;
    if serde_json::from_str::<Kind>(model.get()).ok()?.kind != Some("WordPiece") {
        return None;
    }
    if let Some(version) = entries.get("version") {
        if serde_json::from_str::<&str>(version.get()).ok()? != "1.0" {
            return None;
        }
    }
    let model: WordPiece = serde_json::from_str(model.get()).ok()?;
    let builder = TokenizerBuilder::<
        ModelWrapper,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(model.into())
    .with_normalizer(part(entries, "normalizer")?)
    .with_pre_tokenizer(part(entries, "pre_tokenizer")?)
    .with_post_processor(part(entries, "post_processor")?)
    .with_decoder(part(entries, "decoder")?)
    .with_truncation(part(entries, "truncation")?)
    .with_padding(part(entries, "padding")?);
    let mut tokenizer = Tokenizer::from(builder.build().ok()?);
    let added: Vec<AddedTokenWithId> = part(entries, "added_tokens")?.unwrap_or_default();
    tokenizer.add_tokens(added.into_iter().map(|t| t.token)).ok()?;
    Some(tokenizer)
}

/// The tokenizer of these bytes, from [`PARSED`] when one with the same [`shared_key`] is alive.
/// Padding and truncation are off (minirank pads per batch and truncates itself); the padding
/// token id that `tokenizer.json` names is returned with it.
fn parse_shared(role: ModelRole, bytes: &[u8]) -> Result<(Arc<Tokenizer>, Option<u32>)> {
    let entries = entries(bytes);
    let key = entries.as_ref().map(shared_key);
    let mut parsed = PARSED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    parsed.retain(|p| p.tokenizer.strong_count() > 0);
    let alive = key.and_then(|key| parsed.iter().find(|p| p.key == key));
    if let Some((shared, pad_id)) = alive.and_then(|p| Some((p.tokenizer.upgrade()?, p.pad_id))) {
        return Ok((shared, pad_id));
    }
    let mut inner =
        parse_tokenizer(bytes, entries.as_ref()).map_err(|e| Error::BadTokenizer { role, reason: e.to_string() })?;
    let pad_id = inner.get_padding().map(|p| p.pad_id);
    inner.with_padding(None);
    inner.with_truncation(None).map_err(|e| Error::BadTokenizer { role, reason: e.to_string() })?;
    let inner = Arc::new(inner);
    if let Some(key) = key {
        parsed.push(Parsed { key, tokenizer: Arc::downgrade(&inner), pad_id });
    }
    Ok((inner, pad_id))
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer").field("vocab_size", &self.vocab_size()).finish()
    }
}

/// Bytes of text tokenized at first for a budget of `n` tokens (grows ×4 while too small).
const BYTES_PER_TOKEN_GUESS: usize = 12;

impl TextTokenizer {
    /// Load from the bytes of a Hugging Face `tokenizer.json`.
    pub fn from_bytes(role: ModelRole, bytes: &[u8]) -> Result<Self> {
        let (inner, padding) = parse_shared(role, bytes)?;
        // the padding token: tokenizer.json's padding settings, else the usual names
        let pad_id = padding.or_else(|| ["[PAD]", "<pad>"].iter().find_map(|t| inner.token_to_id(t))).unwrap_or(0);
        let (specials_single, specials_pair) = match inner.get_post_processor() {
            Some(pp) => (pp.added_tokens(false), pp.added_tokens(true)),
            None => (0, 0),
        };
        if inner.get_vocab_size(true) == 0 {
            return Err(Error::BadTokenizer { role, reason: "the vocabulary is empty".into() });
        }
        Ok(Self { inner, specials_single, specials_pair, pad_id })
    }

    /// Id that pads a batch: BERT's `[PAD]` is 0, RoBERTa's and XLM-R's `<pad>` is 1 (0 when the
    /// tokenizer names none; padded positions are masked out either way).
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Vocabulary size including added tokens: every id produced is below it.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Special tokens added around one sequence (`[CLS] … [SEP]` = 2) or a pair (3 for BERT).
    pub fn special_tokens(&self, pair: bool) -> usize {
        if pair {
            self.specials_pair
        } else {
            self.specials_single
        }
    }

    /// Number of tokens of `text` without special tokens (the whole text is tokenized).
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        self.inner.encode_fast(text, false).map(|e| e.len()).map_err(|e| Error::Tokenization { reason: e.to_string() })
    }

    /// Encode one text with special tokens, keeping at most `max_len` tokens in total.
    pub fn encode(&self, text: &str, max_len: usize) -> Result<Encoded> {
        let budget = max_len.saturating_sub(self.specials_single).max(1);
        let enc = self.encode_bounded(text, budget)?;
        self.finish(enc, None)
    }

    /// Encode a (query, document) pair as `[CLS] q [SEP] d [SEP]` with segment ids 0/1,
    /// at most `max_len` tokens in total.
    ///
    /// Truncation takes from the **document first**. Only when the query alone would leave the
    /// document less than half the budget is the query cut too, so that both keep half.
    pub fn encode_pair(&self, query: &str, document: &str, max_len: usize) -> Result<Encoded> {
        let budget = max_len.saturating_sub(self.specials_pair).max(2);
        let mut q = self.encode_bounded(query, budget)?;
        let mut d = self.encode_bounded(document, budget)?;
        let (ql, dl) = (q.len(), d.len());
        if ql + dl > budget {
            let doc_keep = budget.saturating_sub(ql).max(dl.min(budget / 2));
            let query_keep = budget - doc_keep;
            d.truncate(doc_keep, 0, TruncationDirection::Right);
            q.truncate(query_keep, 0, TruncationDirection::Right);
        }
        self.finish(q, Some(d))
    }

    /// Encode `text` without special tokens, truncated to `budget` tokens, tokenizing only a
    /// prefix of long texts. The prefix ends just before a whitespace character, where every
    /// pre-tokenizer in use (BERT, Metaspace, ByteLevel) starts a new word, so the tokens of the
    /// prefix are a prefix of the tokens of the whole text.
    fn encode_bounded(&self, text: &str, budget: usize) -> Result<Encoding> {
        let mut window = budget.saturating_mul(BYTES_PER_TOKEN_GUESS).max(1024);
        loop {
            // (prefix, tokens the prefix must give beyond the budget to be trusted)
            let (slice, margin) = if window >= text.len() {
                (text, 0)
            } else {
                match whitespace_cut(text, window) {
                    Some(cut) => (&text[..cut], 0),
                    // No whitespace at all: cut inside a word. Only the tokens of that last word
                    // can differ from the full text's, and one word yields at most
                    // WORD_TOKEN_MARGIN tokens (WordPiece turns longer words into one [UNK]).
                    None => (&text[..char_floor(text, window)], WORD_TOKEN_MARGIN),
                }
            };
            let mut enc =
                self.inner.encode_fast(slice, false).map_err(|e| Error::Tokenization { reason: e.to_string() })?;
            // A prefix must give strictly more tokens than kept: then no kept token can depend
            // on the text that was left out.
            if slice.len() == text.len() || enc.len() > budget + margin {
                enc.truncate(budget, 0, TruncationDirection::Right);
                return Ok(enc);
            }
            window = window.saturating_mul(4);
        }
    }

    fn finish(&self, first: Encoding, second: Option<Encoding>) -> Result<Encoded> {
        let enc =
            self.inner.post_process(first, second, true).map_err(|e| Error::Tokenization { reason: e.to_string() })?;
        Ok(Encoded { ids: enc.get_ids().to_vec(), type_ids: enc.get_type_ids().to_vec() })
    }
}

/// Tokens one word can contribute at most (WordPiece's `max_input_chars_per_word` is 100).
const WORD_TOKEN_MARGIN: usize = 128;

/// The largest char boundary `<= limit`.
fn char_floor(text: &str, limit: usize) -> usize {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// The largest byte offset `<= limit` that starts a whitespace character, if any after 0.
fn whitespace_cut(text: &str, limit: usize) -> Option<usize> {
    text[..char_floor(text, limit)]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .filter(|&i| i > 0)
}

/// A query must have non-whitespace text.
pub fn check_query(query: &str) -> Result<()> {
    if query.trim().is_empty() {
        return Err(Error::EmptyInput { what: "query" });
    }
    Ok(())
}

/// A candidate must have non-whitespace text.
pub fn check_candidate_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::EmptyInput { what: "candidate text" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> TextTokenizer {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/cross-encoder/tokenizer.json"))
            .expect("models/cross-encoder/tokenizer.json is committed");
        TextTokenizer::from_bytes(ModelRole::CrossEncoder, &bytes).unwrap()
    }

    #[test]
    fn single_has_cls_sep_and_no_padding() {
        let t = tok();
        let e = t.encode("hello world", 256).unwrap();
        assert_eq!(e.ids.first(), Some(&101));
        assert_eq!(e.ids.last(), Some(&102));
        assert_eq!(e.ids.len(), 4, "tokenizer.json's fixed padding must be disabled");
        assert!(e.type_ids.iter().all(|&t| t == 0));
    }

    #[test]
    fn pair_layout_and_type_ids() {
        let t = tok();
        let e = t.encode_pair("what is rust", "rust is a language", 256).unwrap();
        let seps: Vec<usize> = e.ids.iter().enumerate().filter(|(_, &id)| id == 102).map(|(i, _)| i).collect();
        assert_eq!(seps.len(), 2);
        assert_eq!(e.ids[0], 101);
        // query tokens + CLS + first SEP are segment 0, the rest segment 1
        assert!(e.type_ids[..=seps[0]].iter().all(|&x| x == 0));
        assert!(e.type_ids[seps[0] + 1..].iter().all(|&x| x == 1));
    }

    #[test]
    fn pair_truncates_document_first() {
        let t = tok();
        let q = "how do python processes share state";
        let doc = "word ".repeat(1000);
        let e = t.encode_pair(q, &doc, 64).unwrap();
        assert_eq!(e.len(), 64);
        let q_alone = t.encode(q, 256).unwrap();
        // the whole query survives: [CLS] q [SEP] is a prefix of the pair
        assert_eq!(&e.ids[..q_alone.len()], &q_alone.ids[..]);
    }

    #[test]
    fn long_query_and_long_document_share_the_budget() {
        let t = tok();
        let q = "query ".repeat(500);
        let d = "document ".repeat(500);
        let e = t.encode_pair(&q, &d, 101).unwrap();
        assert_eq!(e.len(), 101);
        let ones = e.type_ids.iter().filter(|&&x| x == 1).count();
        // 98 content tokens: document keeps half (49) + its [SEP]
        assert_eq!(ones, 50);
    }

    #[test]
    fn bounded_prefix_matches_full_tokenization() {
        let t = tok();
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("tok{i} naïve-über 東京 word{} ", i % 7));
        }
        for budget in [5usize, 126, 254, 510] {
            let full = {
                let mut e = t.inner.encode_fast(text.as_str(), false).unwrap();
                e.truncate(budget, 0, TruncationDirection::Right);
                e.get_ids().to_vec()
            };
            let bounded = t.encode_bounded(&text, budget).unwrap();
            assert_eq!(bounded.get_ids(), &full[..], "budget {budget}");
        }
    }

    #[test]
    fn text_without_whitespace_still_truncates_exactly() {
        let t = tok();
        for text in ["a".repeat(100_000), ".,;".repeat(100_000), "東京".repeat(50_000)] {
            let e = t.encode(&text, 16).unwrap();
            assert!(e.len() <= 16);
            let mut full = t.inner.encode_fast(text.as_str(), false).unwrap();
            full.truncate(14, 0, TruncationDirection::Right);
            assert_eq!(&e.ids[1..e.len() - 1], full.get_ids());
        }
    }

    #[test]
    fn pad_id_comes_from_the_padding_settings_or_the_pad_token() {
        assert_eq!(tok().pad_id(), 0, "[PAD]");
        let mut json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/cross-encoder/tokenizer.json")).unwrap(),
        )
        .unwrap();
        json["padding"] = serde_json::json!({"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": null,
                                              "pad_id": 7, "pad_type_id": 0, "pad_token": "[unused6]"});
        let t = TextTokenizer::from_bytes(ModelRole::BiEncoder, &serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(t.pad_id(), 7, "the padding settings name it");
        assert_eq!(t.encode("hello world", 256).unwrap().len(), 4, "and padding itself stays off");
        // a RoBERTa-style vocabulary: <pad> = 1
        json["padding"] = serde_json::Value::Null;
        let vocab = json["model"]["vocab"].as_object_mut().unwrap();
        vocab.remove("[PAD]");
        vocab.insert("<pad>".into(), 1.into());
        json["added_tokens"].as_array_mut().unwrap().retain(|t| t["content"] != "[PAD]");
        let t = TextTokenizer::from_bytes(ModelRole::BiEncoder, &serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(t.pad_id(), 1);
    }

    #[test]
    fn tokenizers_differing_only_in_truncation_share_one_parse() {
        let bi_bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/bi-encoder/tokenizer.json")).unwrap();
        // the cross-encoder's file as the npm package ships it: the same vocabulary, written the
        // same way (scripts/build-wasm.sh), truncation at 256
        let text = String::from_utf8(bi_bytes.clone()).unwrap();
        let ce_text = text.replacen(
            r#""truncation":{"max_length":128,"#,
            r#""truncation":{"direction":"Right","max_length":256,"#,
            1,
        );
        assert_ne!(ce_text, text);
        let bi = TextTokenizer::from_bytes(ModelRole::BiEncoder, &bi_bytes).unwrap();
        let ce = TextTokenizer::from_bytes(ModelRole::CrossEncoder, ce_text.as_bytes()).unwrap();
        assert!(Arc::ptr_eq(&bi.inner, &ce.inner), "one parse for both");
        assert_eq!(ce.encode_pair("q", &"word ".repeat(300), 256).unwrap().len(), 256, "no truncation at 128 leaks in");
        assert_eq!(ce.encode("a b c", 256).unwrap(), bi.encode("a b c", 256).unwrap());
        // another padding id is another tokenizer
        let other_text = ce_text.replacen(r#""pad_id":0,"pad_type_id""#, r#""pad_id":7,"pad_type_id""#, 1);
        assert_ne!(other_text, ce_text);
        let other = TextTokenizer::from_bytes(ModelRole::CrossEncoder, other_text.as_bytes()).unwrap();
        assert!(!Arc::ptr_eq(&other.inner, &ce.inner));
        assert_eq!((other.pad_id(), ce.pad_id()), (7, 0));
        // once no model holds it, the parse is gone
        let weak = Arc::downgrade(&bi.inner);
        drop((bi, ce));
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn the_wordpiece_fast_path_builds_what_tokenizers_builds() {
        let path = |role: &str| format!("{}/models/{role}/tokenizer.json", env!("CARGO_MANIFEST_DIR"));
        let ce: serde_json::Value = serde_json::from_slice(&std::fs::read(path("cross-encoder")).unwrap()).unwrap();
        let mut variants =
            vec![std::fs::read(path("cross-encoder")).unwrap(), std::fs::read(path("bi-encoder")).unwrap()];
        // padding on, no normalizer, and an added token that is not in the vocabulary (a new id)
        let mut edited = ce.clone();
        edited["padding"] = serde_json::json!({"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": null,
                                                "pad_id": 7, "pad_type_id": 0, "pad_token": "[unused6]"});
        edited["normalizer"] = serde_json::Value::Null;
        edited["added_tokens"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"id": 30522, "content": "<extra>", "single_word": false,
            "lstrip": false, "rstrip": false, "normalized": false, "special": true}));
        variants.push(serde_json::to_vec(&edited).unwrap());
        let texts = ["Hello, World! <extra> [SEP] naïve café", "what is rust", "", "\u{4e2d}\u{6587} and ﬁ ligatures"];
        for bytes in &variants {
            let fast =
                wordpiece_tokenizer(&entries(bytes).unwrap()).expect("the fast path takes a WordPiece tokenizer");
            let reference = Tokenizer::from_bytes(bytes).unwrap();
            assert_eq!(
                fast.to_string(false).unwrap(),
                reference.to_string(false).unwrap(),
                "the same tokenizer, serialised"
            );
            for text in texts {
                let (a, b) = (fast.encode(text, true).unwrap(), reference.encode(text, true).unwrap());
                assert_eq!(
                    (a.get_ids(), a.get_type_ids(), a.get_offsets()),
                    (b.get_ids(), b.get_type_ids(), b.get_offsets()),
                    "{text:?}"
                );
            }
        }
        // what the fast path does not take goes to tokenizers, which then decides
        let mut other = ce.clone();
        other["version"] = "2.0".into();
        let bytes = serde_json::to_vec(&other).unwrap();
        assert!(wordpiece_tokenizer(&entries(&bytes).unwrap()).is_none());
        assert_eq!(
            parse_tokenizer(&bytes, entries(&bytes).as_ref()).unwrap_err().to_string(),
            Tokenizer::from_bytes(&bytes).unwrap_err().to_string()
        );
        other["version"] = "1.0".into();
        other["model"]["type"] = "WordLevel".into();
        assert!(wordpiece_tokenizer(&entries(&serde_json::to_vec(&other).unwrap()).unwrap()).is_none());
    }

    #[test]
    fn rejects_garbage_tokenizer() {
        let err = TextTokenizer::from_bytes(ModelRole::BiEncoder, b"{not json").unwrap_err();
        assert!(matches!(err, Error::BadTokenizer { .. }), "{err}");
    }

    #[test]
    fn whitespace_cut_respects_char_boundaries() {
        let s = "ab cd\u{00e9}\u{00e9} ef";
        assert_eq!(whitespace_cut(s, 7), Some(2));
        assert_eq!(whitespace_cut(s, 100), Some(9));
        assert_eq!(whitespace_cut("abc", 2), None);
    }
}
