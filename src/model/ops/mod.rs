//! minirank's tract operators: what the encoders spend their time in, written for wasm32's
//! SIMD128. Both are registered with tract's NNEF (and, with the `onnx` feature, ONNX) loaders.
pub(crate) mod int8_linear;
pub(crate) mod masked_softmax;
