//! The model runtime: encoder graphs run by tract, whatever their file format.
//!
//! Lowest first, each layer using only those before it:
//! - [`ops`]: minirank's own tract operators (the int8 linear layer, attention's masked softmax);
//! - [`nnef`]: tract NNEF archives with those operators (`text` reads `graph.nnef` quickly,
//!   `framework` builds tract's NNEF framework from one read of the standard library);
//! - [`signature`]: the inputs and output an encoder graph must have, and what its tables say;
//! - [`onnx`] (the `onnx` feature): ONNX files, parsed, checked, rewritten (`onnx::rewrite`) and
//!   decluttered;
//! - [`encoder`]: the compiled graph of either format, its files and `config.json`, and the
//!   batching that runs it.
//!
//! The roles above it ([`crate::bi_encoder`], [`crate::cross_encoder`]) use [`encoder`] only.
pub(crate) mod encoder;
pub(crate) mod nnef;
#[cfg(feature = "onnx")]
pub(crate) mod onnx;
pub(crate) mod ops;
pub(crate) mod signature;
