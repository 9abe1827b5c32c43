//! Lexical retrieval: Okapi BM25 over an inverted index kept beside the vectors.
//!
//! Text is analysed with Unicode-aware rules: lower-cased with full Unicode case mapping, split
//! into runs of letters and digits (so `"C++"` gives `c`, `"état-major"` gives `état`, `major`),
//! and each CJK ideograph / kana / hangul syllable becomes a token of its own (those scripts do
//! not separate words with spaces). English stop words can be dropped (the 318 words of the
//! Glasgow IR group's list, as scikit-learn ships it), and the remaining words reduced to their
//! stem with the Snowball English stemmer (`"parallelism"`, `"parallel"` → `parallel`), which
//! lets a query match the other forms of its words.
//!
//! Scores use Lucene's non-negative idf `ln(1 + (N − df + 0.5) / (df + 0.5))` and
//! `tf·(k1 + 1) / (tf + k1·(1 − b + b·len/avglen))`; `k1` and `b` are read at query time, so
//! changing them needs no re-indexing.

use crate::error::{bail_option, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// BM25 settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Bm25Params {
    /// Term-frequency saturation (typically 0.9–2.0).
    pub k1: f32,
    /// Length normalisation, 0 (none) ..= 1 (full).
    pub b: f32,
    /// Drop common English words when indexing and querying (changing it re-indexes).
    pub stop_words: bool,
    /// Reduce words to their stem when indexing and querying (changing it re-indexes); `None`
    /// keeps words as they are (for languages other than English).
    pub stemmer: Option<Stemmer>,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Self { k1: 1.2, b: 0.75, stop_words: true, stemmer: Some(Stemmer::English) }
    }
}

impl Bm25Params {
    /// Check the ranges.
    pub fn validate(&self) -> Result<()> {
        if !self.k1.is_finite() || !(0.0..=10.0).contains(&self.k1) {
            bail_option!("bm25.k1", "must be a number between 0 and 10, got {}", self.k1);
        }
        if !self.b.is_finite() || !(0.0..=1.0).contains(&self.b) {
            bail_option!("bm25.b", "must be a number between 0 and 1, got {}", self.b);
        }
        Ok(())
    }

    /// How these settings turn text into terms.
    pub fn analyzer(&self) -> Analyzer {
        Analyzer { stop_words: self.stop_words, stemmer: self.stemmer }
    }
}

/// A stemming algorithm (Snowball).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stemmer {
    /// Snowball's English stemmer (Porter 2).
    English,
}

impl Stemmer {
    fn algorithm(self) -> rust_stemmers::Algorithm {
        match self {
            Stemmer::English => rust_stemmers::Algorithm::English,
        }
    }
}

/// Text → terms: the analysis half of [`Bm25Params`] (the part that needs re-indexing to change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Analyzer {
    /// Drop English stop words.
    pub stop_words: bool,
    /// Stem what is left.
    pub stemmer: Option<Stemmer>,
}

impl Analyzer {
    /// How many different terms `text` has (see [`terms`](Self::terms)).
    pub fn distinct_terms(&self, text: &str) -> usize {
        let mut terms = self.terms(text);
        terms.sort_unstable();
        terms.dedup();
        terms.len()
    }

    /// The terms of `text`: lower-cased runs of letters/digits (stop words dropped, then
    /// stemmed, as configured), and one term per CJK character (never dropped or stemmed).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let stemmer = self.stemmer.map(|s| rust_stemmers::Stemmer::create(s.algorithm()));
        let mut out = Vec::new();
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut Vec<String>| {
            if word.is_empty() {
                return;
            }
            let term = std::mem::take(word);
            if self.stop_words && STOP_WORDS.binary_search(&term.as_str()).is_ok() {
                return;
            }
            out.push(match &stemmer {
                Some(s) => s.stem(&term).into_owned(),
                None => term,
            });
        };
        for c in text.chars() {
            if is_cjk(c) {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            } else if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else {
                flush(&mut word, &mut out);
            }
        }
        flush(&mut word, &mut out);
        out
    }
}

/// English stop words: the Glasgow Information Retrieval Group's list as scikit-learn ships it
/// (`ENGLISH_STOP_WORDS`, 318 words), sorted for binary search.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "after",
    "afterwards",
    "again",
    "against",
    "all",
    "almost",
    "alone",
    "along",
    "already",
    "also",
    "although",
    "always",
    "am",
    "among",
    "amongst",
    "amoungst",
    "amount",
    "an",
    "and",
    "another",
    "any",
    "anyhow",
    "anyone",
    "anything",
    "anyway",
    "anywhere",
    "are",
    "around",
    "as",
    "at",
    "back",
    "be",
    "became",
    "because",
    "become",
    "becomes",
    "becoming",
    "been",
    "before",
    "beforehand",
    "behind",
    "being",
    "below",
    "beside",
    "besides",
    "between",
    "beyond",
    "bill",
    "both",
    "bottom",
    "but",
    "by",
    "call",
    "can",
    "cannot",
    "cant",
    "co",
    "con",
    "could",
    "couldnt",
    "cry",
    "de",
    "describe",
    "detail",
    "do",
    "done",
    "down",
    "due",
    "during",
    "each",
    "eg",
    "eight",
    "either",
    "eleven",
    "else",
    "elsewhere",
    "empty",
    "enough",
    "etc",
    "even",
    "ever",
    "every",
    "everyone",
    "everything",
    "everywhere",
    "except",
    "few",
    "fifteen",
    "fifty",
    "fill",
    "find",
    "fire",
    "first",
    "five",
    "for",
    "former",
    "formerly",
    "forty",
    "found",
    "four",
    "from",
    "front",
    "full",
    "further",
    "get",
    "give",
    "go",
    "had",
    "has",
    "hasnt",
    "have",
    "he",
    "hence",
    "her",
    "here",
    "hereafter",
    "hereby",
    "herein",
    "hereupon",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "hundred",
    "i",
    "ie",
    "if",
    "in",
    "inc",
    "indeed",
    "interest",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "keep",
    "last",
    "latter",
    "latterly",
    "least",
    "less",
    "ltd",
    "made",
    "many",
    "may",
    "me",
    "meanwhile",
    "might",
    "mill",
    "mine",
    "more",
    "moreover",
    "most",
    "mostly",
    "move",
    "much",
    "must",
    "my",
    "myself",
    "name",
    "namely",
    "neither",
    "never",
    "nevertheless",
    "next",
    "nine",
    "no",
    "nobody",
    "none",
    "noone",
    "nor",
    "not",
    "nothing",
    "now",
    "nowhere",
    "of",
    "off",
    "often",
    "on",
    "once",
    "one",
    "only",
    "onto",
    "or",
    "other",
    "others",
    "otherwise",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "part",
    "per",
    "perhaps",
    "please",
    "put",
    "rather",
    "re",
    "same",
    "see",
    "seem",
    "seemed",
    "seeming",
    "seems",
    "serious",
    "several",
    "she",
    "should",
    "show",
    "side",
    "since",
    "sincere",
    "six",
    "sixty",
    "so",
    "some",
    "somehow",
    "someone",
    "something",
    "sometime",
    "sometimes",
    "somewhere",
    "still",
    "such",
    "system",
    "take",
    "ten",
    "than",
    "that",
    "the",
    "their",
    "them",
    "themselves",
    "then",
    "thence",
    "there",
    "thereafter",
    "thereby",
    "therefore",
    "therein",
    "thereupon",
    "these",
    "they",
    "thick",
    "thin",
    "third",
    "this",
    "those",
    "though",
    "three",
    "through",
    "throughout",
    "thru",
    "thus",
    "to",
    "together",
    "too",
    "top",
    "toward",
    "towards",
    "twelve",
    "twenty",
    "two",
    "un",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "via",
    "was",
    "we",
    "well",
    "were",
    "what",
    "whatever",
    "when",
    "whence",
    "whenever",
    "where",
    "whereafter",
    "whereas",
    "whereby",
    "wherein",
    "whereupon",
    "wherever",
    "whether",
    "which",
    "while",
    "whither",
    "who",
    "whoever",
    "whole",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

/// BM25 of `query` for each text, with the texts themselves as the corpus (document
/// frequencies and lengths): for candidates that are not in an index, e.g. results from a server.
pub fn pool_scores(query: &str, texts: &[&str], params: &Bm25Params) -> Vec<f32> {
    let mut ix = Bm25Index::new(params.analyzer());
    for (i, t) in texts.iter().enumerate() {
        ix.set(i, t);
    }
    ix.score_slots(query, params, &(0..texts.len()).collect::<Vec<_>>())
}

/// An inverted index addressed by the same slots as the vector index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bm25Index {
    analyzer: Analyzer,
    vocab: HashMap<String, u32>,
    /// term → (slot, term frequency)
    postings: Vec<Vec<(u32, u32)>>,
    /// slot → (term, term frequency), sorted by term
    doc_terms: Vec<Vec<(u32, u32)>>,
    doc_len: Vec<u32>,
    total_len: u64,
}

impl Bm25Index {
    /// An empty index that analyses text with `analyzer` (see [`Bm25Params::analyzer`]).
    pub fn new(analyzer: Analyzer) -> Self {
        Self { analyzer, ..Default::default() }
    }

    /// How text is turned into terms.
    pub fn analyzer(&self) -> Analyzer {
        self.analyzer
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.doc_len.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.doc_len.is_empty()
    }

    /// Approximate heap bytes.
    pub fn memory_bytes(&self) -> usize {
        let vocab: usize = self.vocab.keys().map(|k| k.len() + 40).sum();
        let pairs: usize = self.postings.iter().chain(&self.doc_terms).map(|p| p.len() * 8 + 24).sum();
        vocab + pairs + self.doc_len.len() * 4
    }

    fn term_counts(&mut self, text: &str) -> Vec<(u32, u32)> {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for term in self.analyzer.terms(text) {
            let next = self.vocab.len() as u32;
            let id = *self.vocab.entry(term).or_insert(next);
            if id as usize == self.postings.len() {
                self.postings.push(Vec::new());
            }
            *counts.entry(id).or_insert(0) += 1;
        }
        let mut v: Vec<(u32, u32)> = counts.into_iter().collect();
        v.sort_unstable();
        v
    }

    /// Index `text` at `slot`: `slot == len()` appends, a smaller slot replaces that document.
    pub fn set(&mut self, slot: usize, text: &str) {
        assert!(slot <= self.len(), "bm25 slot {slot} out of range");
        if slot < self.len() {
            self.unlink(slot);
        }
        let terms = self.term_counts(text);
        let len: u32 = terms.iter().map(|&(_, tf)| tf).sum();
        for &(t, tf) in &terms {
            self.postings[t as usize].push((slot as u32, tf));
        }
        self.total_len += len as u64;
        if slot == self.len() {
            self.doc_terms.push(terms);
            self.doc_len.push(len);
        } else {
            self.doc_terms[slot] = terms;
            self.doc_len[slot] = len;
        }
    }

    /// Take the postings of `slot` out (its row stays, empty).
    fn unlink(&mut self, slot: usize) {
        for &(t, _) in &self.doc_terms[slot] {
            self.postings[t as usize].retain(|&(s, _)| s as usize != slot);
        }
        self.total_len -= self.doc_len[slot] as u64;
        self.doc_terms[slot].clear();
        self.doc_len[slot] = 0;
    }

    /// Remove `slot`, moving the last document into it (as `Vec::swap_remove`).
    pub fn swap_remove(&mut self, slot: usize) {
        self.unlink(slot);
        let last = self.len() - 1;
        if slot != last {
            for &(t, _) in &self.doc_terms[last] {
                for p in self.postings[t as usize].iter_mut().filter(|p| p.0 as usize == last) {
                    p.0 = slot as u32;
                }
            }
        }
        self.doc_terms.swap_remove(slot);
        self.doc_len.swap_remove(slot);
    }

    /// Remove everything (the analyzer stays).
    pub fn clear(&mut self) {
        *self = Self::new(self.analyzer);
    }

    /// Distinct known term ids of a query.
    fn query_terms(&self, query: &str) -> Vec<u32> {
        let mut ids: Vec<u32> = self.analyzer.terms(query).iter().filter_map(|t| self.vocab.get(t).copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn idf(&self, df: usize) -> f32 {
        let n = self.len() as f32;
        (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln()
    }

    fn term_weight(&self, tf: u32, len: u32, params: &Bm25Params) -> f32 {
        let avg = (self.total_len as f32 / self.len().max(1) as f32).max(1e-6);
        let tf = tf as f32;
        tf * (params.k1 + 1.0) / (tf + params.k1 * (1.0 - params.b + params.b * len as f32 / avg))
    }

    /// BM25 score of every document that shares a term with `query` and passes `allowed`
    /// (slot → bool), as (slot, score), unordered.
    pub fn scores(&self, query: &str, params: &Bm25Params, allowed: Option<&[bool]>) -> Vec<(usize, f32)> {
        let mut acc: HashMap<u32, f32> = HashMap::new();
        for t in self.query_terms(query) {
            let posting = &self.postings[t as usize];
            let idf = self.idf(posting.len());
            for &(slot, tf) in posting {
                if allowed.is_some_and(|a| !a[slot as usize]) {
                    continue;
                }
                *acc.entry(slot).or_insert(0.0) += idf * self.term_weight(tf, self.doc_len[slot as usize], params);
            }
        }
        acc.into_iter().map(|(s, v)| (s as usize, v)).collect()
    }

    /// BM25 score of `query` for each of `slots` (0 where no term matches).
    pub fn score_slots(&self, query: &str, params: &Bm25Params, slots: &[usize]) -> Vec<f32> {
        let terms: Vec<(u32, f32)> =
            self.query_terms(query).into_iter().map(|t| (t, self.idf(self.postings[t as usize].len()))).collect();
        slots
            .iter()
            .map(|&s| {
                let doc = &self.doc_terms[s];
                terms
                    .iter()
                    .filter_map(|&(t, idf)| {
                        doc.binary_search_by_key(&t, |p| p.0)
                            .ok()
                            .map(|i| idf * self.term_weight(doc[i].1, self.doc_len[s], params))
                    })
                    .sum()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_is_unicode_aware() {
        let plain = Analyzer { stop_words: true, stemmer: None };
        assert_eq!(plain.terms("The GIL, in CPython 3.12!"), ["gil", "cpython", "3", "12"]);
        assert_eq!(Analyzer::default().terms("The GIL"), ["the", "gil"]);
        assert_eq!(plain.terms("ÉTAT-major Straße"), ["état", "major", "straße"]);
        assert_eq!(plain.terms("ΣΊΣΥΦΟΣ"), ["σίσυφοσ"]);
        assert_eq!(plain.terms("東京タワー tokyo"), ["東", "京", "タ", "ワ", "ー", "tokyo"]);
        assert!(plain.terms("  ,.;  ").is_empty());
    }

    #[test]
    fn stemming_joins_word_forms_and_stop_words_go_first() {
        let english = Bm25Params::default().analyzer();
        assert_eq!(english.terms("Running processes in parallel"), ["run", "process", "parallel"]);
        assert_eq!(english.terms("parallelism, PARALLELIZATION"), english.terms("parallelism parallelization"));
        assert_eq!(english.terms("connected connection connecting"), ["connect", "connect", "connect"]);
        // stop words are matched before stemming ("does" is not on the list, "do" is)
        assert_eq!(english.terms("do they"), Vec::<String>::new());
        assert_eq!(english.terms("東京 queues"), ["東", "京", "queue"]);
    }

    #[test]
    fn stop_word_list_is_sorted_and_complete() {
        assert_eq!(STOP_WORDS.len(), 318);
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "binary search needs a sorted list");
    }

    fn index(texts: &[&str]) -> Bm25Index {
        let mut ix = Bm25Index::new(Bm25Params::default().analyzer());
        for (i, t) in texts.iter().enumerate() {
            ix.set(i, t);
        }
        ix
    }

    fn ranked(ix: &Bm25Index, q: &str) -> Vec<usize> {
        let mut s = ix.scores(q, &Bm25Params::default(), None);
        s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        s.into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn scores_match_the_formula() {
        let ix = index(&["apple banana", "apple apple cherry", "durian"]);
        let p = Bm25Params::default();
        let s: HashMap<usize, f32> = ix.scores("apple", &p, None).into_iter().collect();
        let (n, df, avg) = (3.0f32, 2.0f32, 2.0f32);
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        let w = |tf: f32, len: f32| tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / avg));
        assert!((s[&0] - idf * w(1.0, 2.0)).abs() < 1e-6);
        assert!((s[&1] - idf * w(2.0, 3.0)).abs() < 1e-6);
        assert!(!s.contains_key(&2));
        assert_eq!(ix.score_slots("apple", &p, &[0, 1, 2]), vec![s[&0], s[&1], 0.0]);
    }

    #[test]
    fn rare_terms_weigh_more_and_stop_words_do_not_count() {
        let ix = index(&["the cat sat", "the dog sat", "the cat ran", "a bird"]);
        assert_eq!(ranked(&ix, "the dog"), [1]);
        assert_eq!(ranked(&ix, "cat ran")[0], 2);
        assert!(ranked(&ix, "the").is_empty());
        assert!(ranked(&ix, "unknown words").is_empty());
    }

    #[test]
    fn replace_and_swap_remove_keep_postings_consistent() {
        let mut ix = index(&["alpha beta", "beta gamma", "gamma delta"]);
        ix.set(0, "epsilon");
        assert_eq!(ranked(&ix, "alpha"), Vec::<usize>::new());
        assert_eq!(ranked(&ix, "epsilon"), [0]);
        ix.swap_remove(0); // "gamma delta" moves to slot 0
        assert_eq!(ix.len(), 2);
        assert_eq!(ranked(&ix, "delta"), [0]);
        assert_eq!(ranked(&ix, "beta"), [1]);
        assert!(ranked(&ix, "epsilon").is_empty());
        // the same as building from scratch
        let fresh = index(&["gamma delta", "beta gamma"]);
        for q in ["gamma", "beta", "delta gamma"] {
            let mut a = ix.scores(q, &Bm25Params::default(), None);
            let mut b = fresh.scores(q, &Bm25Params::default(), None);
            a.sort_by_key(|x| x.0);
            b.sort_by_key(|x| x.0);
            assert_eq!(a, b, "{q}");
        }
    }

    #[test]
    fn filter_mask_excludes_slots() {
        let ix = index(&["apple", "apple pie", "apple tart"]);
        let got = ix.scores("apple", &Bm25Params::default(), Some(&[true, false, true]));
        let mut ids: Vec<usize> = got.into_iter().map(|x| x.0).collect();
        ids.sort();
        assert_eq!(ids, [0, 2]);
    }

    #[test]
    fn params_are_validated() {
        assert!(Bm25Params { k1: -1.0, ..Default::default() }.validate().is_err());
        assert!(Bm25Params { b: 1.5, ..Default::default() }.validate().is_err());
        assert!(Bm25Params { b: f32::NAN, ..Default::default() }.validate().is_err());
        Bm25Params::default().validate().unwrap();
    }
}
