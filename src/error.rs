//! The one error type of minirank.
//!
//! Every fallible call returns [`Result<T>`]. Variants carry data (which input, which parameter,
//! which sizes) rather than only text, so callers can match on them; `Display` gives a sentence a
//! person can act on. The wasm layer turns them into JavaScript `Error`s with that sentence.

/// Which of the two models an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelRole {
    /// The bi-encoder (sentence embedding model).
    BiEncoder,
    /// The cross-encoder (pair scoring model).
    CrossEncoder,
}

impl std::fmt::Display for ModelRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelRole::BiEncoder => "bi-encoder",
            ModelRole::CrossEncoder => "cross-encoder",
        })
    }
}

/// Everything that can go wrong in minirank.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model bytes are not a usable encoder graph (neither ONNX nor tract NNEF, truncated, an
    /// unsupported operator, ...).
    #[error("{role} model is not a usable model file: {reason}")]
    BadModel { role: ModelRole, reason: String },

    /// The graph lacks an input or output minirank needs, or has one of the wrong type or rank.
    #[error("{role} model graph does not fit: {reason}")]
    ModelSignature { role: ModelRole, reason: String },

    /// The model bytes do not have the SHA-256 the caller expected (wrong or tampered file).
    #[error("{role} model failed its integrity check: expected sha256 {expected}, got {actual}")]
    IntegrityMismatch { role: ModelRole, expected: String, actual: String },

    /// The tokenizer bytes are not a valid `tokenizer.json`.
    #[error("{role} tokenizer is not a valid tokenizer.json: {reason}")]
    BadTokenizer { role: ModelRole, reason: String },

    /// The tokenizer's vocabulary does not match the model's embedding table (or `config.json`).
    #[error("{role} tokenizer does not match the model: tokenizer has {tokenizer_vocab} tokens but {source_of_truth} says {model_vocab}")]
    TokenizerMismatch { role: ModelRole, tokenizer_vocab: usize, model_vocab: usize, source_of_truth: &'static str },

    /// `config.json` could not be parsed.
    #[error("{role} config.json is invalid: {reason}")]
    BadConfig { role: ModelRole, reason: String },

    /// Running the graph failed.
    #[error("{role} inference failed: {reason}")]
    Inference { role: ModelRole, reason: String },

    /// Tokenizing a text failed.
    #[error("tokenization failed: {reason}")]
    Tokenization { reason: String },

    /// A required text (query, document, id) was empty or only whitespace.
    #[error("{what} is empty")]
    EmptyInput { what: &'static str },

    /// A search needed documents but the index holds none.
    #[error("the index is empty: add documents before searching")]
    EmptyIndex,

    /// Stage two was asked of an engine whose cross-encoder is not loaded (yet).
    #[error(
        "no cross-encoder is loaded yet: rerank, search and scorePairs need one (searchFused and retrieve do not)"
    )]
    NoCrossEncoder,

    /// A document is larger than the configured limit.
    #[error("document {id:?} is {bytes} bytes, over the limit of {limit} bytes")]
    DocumentTooLarge { id: String, bytes: usize, limit: usize },

    /// An option does not fit its type or is out of its valid range. `name` is the option's path
    /// as serialized (camelCase, dotted for nested fields, e.g. `signals.freshness.halfLifeDays`),
    /// the spelling JavaScript and JSON callers use.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption { name: std::borrow::Cow<'static, str>, reason: String },

    /// Vectors of the wrong length were given or stored.
    #[error("dimension mismatch: expected {expected}, got {actual}")]
    DimensionMismatch { expected: usize, actual: usize },

    /// The same document id appears twice in one call.
    #[error("document id {id:?} appears more than once in this batch")]
    DuplicateId { id: String },

    /// An id was not found where one was required.
    #[error("no document with id {id:?}")]
    UnknownId { id: String },

    /// Serialized index bytes were rejected.
    #[error("index bytes rejected: {reason}")]
    CorruptIndex { reason: String },

    /// Adding documents would take the index over its configured capacity.
    #[error("index capacity exceeded: {requested} documents requested, limit is {limit}")]
    CapacityExceeded { requested: usize, limit: usize },

    /// Reading a file or stream failed (native only paths such as the CLI).
    #[error("I/O error on {path}: {reason}")]
    Io { path: String, reason: String },

    /// A JSON document (metadata, JSONL line, collection file) could not be parsed.
    #[error("invalid JSON in {context}: {reason}")]
    Json { context: String, reason: String },

    /// A remote candidate source (a PostgreSQL server) could not be reached or dropped the
    /// connection. `target` is its address without the password.
    #[error("cannot reach the candidate source {target}: {reason}")]
    SourceConnection { target: String, reason: String },

    /// A remote candidate source refused the credentials.
    #[error("the candidate source {target} refused the login: {reason}")]
    SourceAuth { target: String, reason: String },

    /// A remote candidate source lacks the table, its registration or its function, or a query
    /// on it failed.
    #[error("the candidate source's table {table} is not usable: {reason}")]
    SourceSchema { table: String, reason: String },

    /// A remote candidate source's documents were embedded by another bi-encoder (another
    /// fingerprint or dimension) than the one loaded: its cosines would be meaningless.
    #[error(
        "table {table} was embedded by another bi-encoder (fingerprint {stored_fingerprint}, dimension \
         {stored_dimension}) than the loaded one (fingerprint {fingerprint}, dimension {dimension}): export the \
         documents again with this model, or load the model they were embedded with"
    )]
    SourceModel { table: String, stored_fingerprint: i64, stored_dimension: i64, fingerprint: i64, dimension: i64 },
}

/// `Result` with minirank's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Return early with an [`Error::InvalidOption`].
macro_rules! bail_option {
    ($name:expr, $($fmt:tt)+) => {
        return Err($crate::error::Error::InvalidOption { name: $name.into(), reason: format!($($fmt)+) })
    };
}
pub(crate) use bail_option;

/// `Error::code` and `Error::CODES` from one list of the variants (the match is exhaustive, so
/// a new variant must be added here).
macro_rules! codes {
    ($($variant:ident),* $(,)?) => {
        impl Error {
            /// Every [`code`](Self::code), e.g. for a TypeScript union of the error codes.
            pub const CODES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// A stable name for the kind of error (`"BadModel"`, `"EmptyInput"`, ...), for programs
            /// that branch on it; the JavaScript binding sets it as the thrown `Error`'s `code`.
            pub fn code(&self) -> &'static str {
                match self {
                    $(Error::$variant { .. } => stringify!($variant)),*
                }
            }
        }
    };
}

codes!(
    BadModel,
    ModelSignature,
    IntegrityMismatch,
    BadTokenizer,
    TokenizerMismatch,
    BadConfig,
    Inference,
    Tokenization,
    EmptyInput,
    EmptyIndex,
    NoCrossEncoder,
    DocumentTooLarge,
    InvalidOption,
    DimensionMismatch,
    DuplicateId,
    UnknownId,
    CorruptIndex,
    CapacityExceeded,
    Io,
    Json,
    SourceConnection,
    SourceAuth,
    SourceSchema,
    SourceModel,
);

impl Error {
    /// The option an [`Error::InvalidOption`] is about (its serialized path), else `None`.
    pub fn option(&self) -> Option<&str> {
        match self {
            Error::InvalidOption { name, .. } => Some(name),
            _ => None,
        }
    }

    pub(crate) fn invalid_option(name: impl Into<std::borrow::Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Error::InvalidOption { name: name.into(), reason: reason.into() }
    }

    pub(crate) fn bad_model(role: ModelRole, e: impl std::fmt::Display) -> Self {
        Error::BadModel { role, reason: format!("{e:#}") }
    }
    pub(crate) fn inference(role: ModelRole, e: impl std::fmt::Display) -> Self {
        Error::Inference { role, reason: format!("{e:#}") }
    }
}
