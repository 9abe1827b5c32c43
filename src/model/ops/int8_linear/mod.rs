//! Linear layers whose weights stay int8 in memory.
//!
//! Weight-only int8 models store each linear weight as `Mul(Cast(q), s)`: an int8 `[K, N]`
//! initializer `q` and one f32 scale per output column. Folded to f32, MiniLM's 36 linear layers
//! take 42.5 MB per model; kept int8 they take 10.6 MB. This operator computes
//! `y = x · (q · diag(s))` from the int8 weights directly:
//!
//! - each row of `x` is quantised on the fly, symmetrically, to 16-bit integers (±32,767;
//!   onnxruntime's dynamic quantisation uses 8 bits per tensor);
//! - the products are summed exactly in i32, [`K_CHUNK`] at a time (so that no sum can
//!   overflow), and the chunks' sums added in f32;
//! - the sum is scaled back: `y[m, n] = sx[m] · s[n] · Σ_k qx[m, k] · q[k, n]`;
//! - a layer with offsets (uint8 weights with a zero point, stored as `q - 128`) adds
//!   `Σ_k x[m, k] · o[n]`, `o[n] = (128 - zero point) · s[n]`, in the same pass.
//!
//! So the only rounding besides f32's is the activations' quantisation, a relative error of
//! about 2⁻¹⁶ of each row's largest value: on the cross-encoder's parity set, logits move by
//! 5e-4 (median) to 2.5e-3 against f32, with the same order. On wasm32 the sums use SIMD128's
//! `i32x4.dot_i16x8_s` (8 multiply-adds per instruction, where f32 without FMA needs two
//! instructions for 4): faster than tract's f32 kernels there, with a quarter of the weights'
//! memory (docs/performance.md, "Measurements behind the code"). Native builds keep f32
//! (`encoder::INT8_LINEAR`).
//!
//! Builds with the `relaxed-simd` feature (the package's second pair of wasm cores) also have
//! [`relaxed`]'s kernel: 14-bit activations, WebAssembly relaxed SIMD's 16-lane dot. Which one runs
//! is [`Kernel`], chosen once per instance ([`set_kernel`]); the i16 kernel until then.
//!
//! `onnx::rewrite::int8_linear_layers` puts the operator in the ONNX graph as
//! [`OP_TYPE`]; [`register`] teaches tract's ONNX loader to build it.
#[cfg(feature = "onnx")]
pub(crate) use onnx::{register, OP_TYPE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tile::{COLS, K_STEP, ROWS};
use tract_nnef::internal::*;

mod relaxed;
mod tile;

#[cfg(target_arch = "wasm32")]
pub(crate) use relaxed::self_test as relaxed_self_test;
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) use relaxed::AVAILABLE as RELAXED_AVAILABLE;

/// The inner kernel of every int8 linear layer in this instance (a wasm instance is one thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// 16-bit activations, `i32x4.dot_i16x8_s` ([`tile`]): every build.
    Simd128,
    /// 14-bit activations, `i32x4.relaxed_dot_i8x16_i7x16_add_s` ([`relaxed`]): builds with the
    /// `relaxed-simd` feature.
    RelaxedSimd,
}

static RELAXED: AtomicBool = AtomicBool::new(false);

/// The kernel the layers use now.
pub(crate) fn kernel() -> Kernel {
    if RELAXED.load(Ordering::Relaxed) {
        Kernel::RelaxedSimd
    } else {
        Kernel::Simd128
    }
}

/// Chooses the kernel; false (and no change) for one this build does not have. The layer
/// [`time_matmul`] timed the kernels on is freed: the choice is made.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn set_kernel(kernel: Kernel) -> bool {
    let relaxed = kernel == Kernel::RelaxedSimd;
    if relaxed && !RELAXED_AVAILABLE {
        return false;
    }
    RELAXED.store(relaxed, Ordering::Relaxed);
    TIMED_LAYER.with_borrow_mut(|sample| *sample = None);
    true
}

/// The operator's name in tract's listings (and the ONNX op type `onnx::rewrite` writes).
const NAME: &str = "MinirankInt8Linear";

/// The weights of one layer, packed for the kernel.
#[derive(Debug)]
pub(crate) struct PackedWeights {
    /// input width K
    k: usize,
    /// K rounded up to [`K_STEP`]
    k_padded: usize,
    /// output width N
    n: usize,
    /// `q` transposed, `[N, K padded]` int8: column `n` of `q` is `columns()[n * k_padded..][..k]`,
    /// zero-padded. A tensor, so that a model read from NNEF keeps the one tract read.
    columns: Arc<Tensor>,
    /// one scale per output column
    scales: Vec<f32>,
    /// one offset per output column, added times the row's sum: `y[m, n] += Σ_k x[m, k] · o[n]`
    offsets: Option<Vec<f32>>,
    /// `Σ w` per column and chunk, for the relaxed kernel (computed at its first use)
    chunk_sums: OnceLock<Vec<i32>>,
}

/// The largest integer an activation is quantised to.
const LIMIT: i32 = i16::MAX as i32;
/// Products summed in i32 before the sum goes to f32: at most `LIMIT · 128` each, so that
/// `K_CHUNK · LIMIT · 128 ≤ i32::MAX` whatever the values.
pub(crate) const K_CHUNK: usize = 512;
const _: () = assert!(K_CHUNK as i64 * LIMIT as i64 * 128 <= i32::MAX as i64 && K_CHUNK % K_STEP == 0);

impl PackedWeights {
    /// `q`: int8 `[K, N]` row-major; `scales`: N values, or one for every column.
    #[cfg(any(feature = "onnx", test))]
    pub(crate) fn new(q: &[i8], k: usize, n: usize, scales: &[f32]) -> TractResult<Self> {
        ensure!(k > 0 && n > 0 && q.len() == k * n, "int8 weights of {} values are not {k} × {n}", q.len());
        let scales = match scales.len() {
            1 => vec![scales[0]; n],
            len if len == n => scales.to_vec(),
            len => bail!("{len} weight scales for {n} output columns"),
        };
        let k_padded = k.div_ceil(K_STEP) * K_STEP;
        let mut columns = vec![0i8; n * k_padded];
        for (row, values) in q.chunks_exact(n).enumerate() {
            for (col, &v) in values.iter().enumerate() {
                columns[col * k_padded + row] = v;
            }
        }
        let columns =
            tract_nnef::tract_core::ndarray::Array2::from_shape_vec((n, k_padded), columns)?.into_arc_tensor();
        Ok(Self { k, k_padded, n, columns, scales, offsets: None, chunk_sums: OnceLock::new() })
    }

    /// The same layer plus `Σ_k x[m, k] · offsets[n]` on each output (N values, or one for all).
    pub(crate) fn with_offsets(mut self, offsets: &[f32]) -> TractResult<Self> {
        self.offsets = Some(match offsets.len() {
            1 => vec![offsets[0]; self.n],
            len if len == self.n => offsets.to_vec(),
            len => bail!("{len} weight offsets for {} output columns", self.n),
        });
        Ok(self)
    }

    /// The packed columns, as a slice.
    fn columns(&self) -> &[i8] {
        // `from_tensors` and `new` made it a plain i8 tensor
        self.columns.try_as_plain_ram().and_then(|d| d.as_slice::<i8>()).expect("packed int8 columns")
    }

    /// `out[m, n] = Σ_k x[m, k] · q[k, n] · s[n]` for the `rows` rows of `x` (row-major, K
    /// wide); `out` is `rows × N`.
    pub(crate) fn matmul(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        self.matmul_with(kernel(), x, rows, out);
    }

    /// [`Self::matmul`] with the given kernel.
    fn matmul_with(&self, kernel: Kernel, x: &[f32], rows: usize, out: &mut [f32]) {
        debug_assert_eq!(x.len(), rows * self.k);
        debug_assert_eq!(out.len(), rows * self.n);
        let (kp, n) = (self.k_padded, self.n);
        let relaxed = kernel == Kernel::RelaxedSimd;
        // whole tiles of rows: the rows past `rows` stay zero, and their sums are not written
        let tiles = rows.div_ceil(ROWS);
        let mut qx = vec![0i16; tiles * ROWS * kp];
        let mut sx = vec![0f32; rows];
        let limit = if relaxed { relaxed::LIMIT } else { LIMIT };
        for (m, row) in x.chunks_exact(self.k).enumerate() {
            sx[m] = quantize_row(row, &mut qx[m * kp..][..self.k], limit);
        }
        // the relaxed kernel's layout of the same integers, and its column sums
        let (split, chunk_sums) = if relaxed {
            let mut bytes = vec![0u8; 2 * qx.len()];
            for (row, out) in qx.chunks_exact(kp).zip(bytes.chunks_exact_mut(2 * kp)) {
                relaxed::split(row, out);
            }
            (bytes, &self.chunk_sums.get_or_init(|| relaxed::column_sums(self.columns(), kp))[..])
        } else {
            (Vec::new(), &[][..])
        };
        let (relaxed_tile, chunks) = (relaxed::best(), kp.div_ceil(K_CHUNK));
        // each row's sum, for the offsets
        let row_sums: Vec<f32> = match self.offsets {
            Some(_) => x.chunks_exact(self.k).map(|row| row.iter().sum()).collect(),
            None => Vec::new(),
        };
        let (tile, columns) = (tile::best(), self.columns());
        // tiles of rows in blocks that stay in cache while every column panel passes over them
        for block in (0..tiles).step_by(ROW_BLOCK / ROWS) {
            let block_end = (block + ROW_BLOCK / ROWS).min(tiles);
            for col in (0..n).step_by(COLS) {
                let cols = COLS.min(n - col);
                // a last, partial pair of columns reads its one column twice; the copy is not written
                let w_stride = if cols == COLS { kp } else { 0 };
                let w = &columns[col * kp..];
                let sums_of = |c: usize| &chunk_sums[(col + c.min(cols - 1)) * chunks..][..chunks];
                for m in (block * ROWS..block_end * ROWS).step_by(ROWS) {
                    let sums = if relaxed {
                        relaxed_tile(&split[2 * m * kp..], 2 * kp, w, w_stride, kp, [sums_of(0), sums_of(1)])
                    } else {
                        tile(&qx[m * kp..], kp, w, w_stride, kp)
                    };
                    for (r, (sums, &sx)) in sums.iter().zip(&sx[m..]).enumerate() {
                        let out = &mut out[(m + r) * n + col..][..cols];
                        for ((o, s), scale) in out.iter_mut().zip(sums).zip(&self.scales[col..]) {
                            *o = s * (sx * scale);
                        }
                        if let (Some(offsets), Some(&sum)) = (&self.offsets, row_sums.get(m + r)) {
                            for (o, offset) in out.iter_mut().zip(&offsets[col..]) {
                                *o += sum * offset;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The packed columns `[N, K padded]` (int8, shared, not copied), the scales `[N]` and K.
    pub(crate) fn to_tensors(&self) -> TractResult<(Arc<Tensor>, Tensor, usize)> {
        let scales = Tensor::from_shape(&[self.n], &self.scales)?;
        Ok((self.columns.clone(), scales, self.k))
    }

    /// The offsets `[N]`, where the layer has them.
    pub(crate) fn offsets_tensor(&self) -> TractResult<Option<Tensor>> {
        self.offsets.as_ref().map(|o| Tensor::from_shape(&[self.n], o)).transpose()
    }

    /// [`Self::to_tensors`] back.
    pub(crate) fn from_tensors(columns: Arc<Tensor>, scales: &Tensor, k: usize) -> TractResult<Self> {
        ensure!(
            columns.rank() == 2 && scales.rank() == 1,
            "packed weights of shapes {:?} and {:?}",
            columns.shape(),
            scales.shape()
        );
        let (n, k_padded) = (columns.shape()[0], columns.shape()[1]);
        ensure!(
            k > 0 && k_padded == k.div_ceil(K_STEP) * K_STEP && scales.shape()[0] == n,
            "packed weights {n} × {k_padded} for K = {k} with {} scales",
            scales.shape()[0]
        );
        // kept as tract read it (no copy) when it is plain int8 already
        let columns = if columns.datum_type() == i8::datum_type() && columns.try_as_plain_ram().is_ok() {
            columns
        } else {
            columns.cast_to::<i8>()?.into_owned().into_arc_tensor()
        };
        let scales = scales.cast_to::<f32>()?;
        Ok(Self {
            k,
            k_padded,
            n,
            columns,
            scales: scales.try_as_plain_ram()?.as_slice::<f32>()?.to_vec(),
            offsets: None,
            chunk_sums: OnceLock::new(),
        })
    }

    fn bytes(&self) -> usize {
        self.columns.len() + 4 * (self.scales.len() + self.offsets.as_ref().map_or(0, Vec::len))
    }
}

/// Runs `reps` products of 64 rows by one layer of MiniLM's shape (384 → 1536, random int8
/// weights: 590 KB, streamed from cache as a model's layers are) with `kernel`, for a caller with a
/// clock to time (wasm32 has none of its own): the package times both kernels of a relaxed core
/// so at load. A single tile repeated in L1 favours the i16 kernel, which the layers do not.
/// Returns a sum of the outputs, so that the work cannot be skipped.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn time_matmul(kernel: Kernel, reps: u32) -> f32 {
    TIMED_LAYER.with_borrow_mut(|sample| {
        let (layer, x) = sample.get_or_insert_with(timed_layer);
        let mut out = vec![0f32; TIMED_ROWS * layer.n];
        let mut total = 0f32;
        for _ in 0..reps {
            layer.matmul_with(kernel, std::hint::black_box(x), TIMED_ROWS, &mut out);
            total += out[0];
        }
        total
    })
}

/// Rows of [`time_matmul`]'s product.
#[cfg(any(target_arch = "wasm32", test))]
const TIMED_ROWS: usize = 64;

#[cfg(any(target_arch = "wasm32", test))]
thread_local! {
    /// [`time_matmul`]'s layer and rows, built at its first call, freed by [`set_kernel`].
    static TIMED_LAYER: std::cell::RefCell<Option<(PackedWeights, Vec<f32>)>> = const { std::cell::RefCell::new(None) };
}

/// A layer of MiniLM's FFN shape with random int8 weights, and [`TIMED_ROWS`] rows of input.
#[cfg(any(target_arch = "wasm32", test))]
fn timed_layer() -> (PackedWeights, Vec<f32>) {
    let (k, n) = (384, 1536);
    let mut state = 0x2545_f491;
    let columns: Vec<i8> = (0..n * k).map(|_| next_random(&mut state) as i8).collect();
    let x = (0..TIMED_ROWS * k).map(|_| (next_random(&mut state) as i32) as f32 / i32::MAX as f32).collect();
    let columns = tract_nnef::tract_core::ndarray::Array2::from_shape_vec((n, k), columns)
        .expect("n × k values")
        .into_arc_tensor();
    let scales = vec![0.01; n];
    (PackedWeights { k, k_padded: k, n, columns, scales, offsets: None, chunk_sums: OnceLock::new() }, x)
}

/// Rows of quantised activations kept hot while all column panels pass (a multiple of `ROWS`).
const ROW_BLOCK: usize = 16;
const _: () = assert!(ROW_BLOCK % ROWS == 0);

/// Symmetric quantisation of `row` to integers in `[-limit, limit]`, written to `out`; returns
/// the scale (`row ≈ scale · out`): 0 for a row of zeros, NaN for a row holding NaN or an
/// infinity (so that it reaches the output as f32 arithmetic would carry it).
fn quantize_row(row: &[f32], out: &mut [i16], limit: i32) -> f32 {
    let (max, finite) = abs_max(row);
    if !finite || max == 0.0 {
        out.fill(0);
        return if finite { 0.0 } else { f32::NAN };
    }
    let (limit, inv) = (limit as f32, limit as f32 / max);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd128::quantize(row, out, inv, limit);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (o, &v) in out[done..].iter_mut().zip(&row[done..]) {
        *o = (v * inv).round_ties_even().clamp(-limit, limit) as i16;
    }
    max / limit
}

/// The largest |x| of `row`, and whether every x is finite.
fn abs_max(row: &[f32]) -> (f32, bool) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (done, mut max, mut finite) = simd128::abs_max(row);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let (done, mut max, mut finite) = (0, 0f32, true);
    // Comparisons only: wasm has instructions for these (`f32.gt`), not for `f32::max`'s NaN
    // rule, which became calls to `fmaxf` (as `round` did to `roundf`: 8% of reranking in Node).
    for &x in &row[done..] {
        let a = x.abs();
        finite &= a <= f32::MAX; // false for NaN and infinities
        if a > max {
            max = a;
        }
    }
    (max, finite)
}

/// [`quantize_row`]'s two passes four lanes at a time, with the same results: the largest of
/// finite values does not depend on the order, and `f32x4.nearest`, `pmin`/`pmax` and
/// `i32x4.trunc_sat_f32x4` are the scalar `round_ties_even`, `clamp` and `as` (NaN → 0).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::*;

    /// `(values done, largest |x|, all finite)` over the leading multiple of 4 values.
    pub(super) fn abs_max(row: &[f32]) -> (usize, f32, bool) {
        let (mut max, mut finite) = (f32x4_splat(0.0), u32x4_splat(u32::MAX));
        let big = f32x4_splat(f32::MAX);
        let chunks = row.chunks_exact(4);
        let done = row.len() - chunks.remainder().len();
        for c in chunks {
            let a = f32x4_abs(f32x4(c[0], c[1], c[2], c[3]));
            finite = v128_and(finite, f32x4_le(a, big));
            max = f32x4_pmax(max, a);
        }
        let lanes = [
            f32x4_extract_lane::<0>(max),
            f32x4_extract_lane::<1>(max),
            f32x4_extract_lane::<2>(max),
            f32x4_extract_lane::<3>(max),
        ];
        let max = lanes.into_iter().fold(0f32, |m, x| if x > m { x } else { m });
        (done, max, u32x4_all_true(finite))
    }

    /// Quantise the leading multiple of 8 values; returns how many.
    pub(super) fn quantize(row: &[f32], out: &mut [i16], inv: f32, limit: f32) -> usize {
        let (inv, lo, hi) = (f32x4_splat(inv), f32x4_splat(-limit), f32x4_splat(limit));
        let q = |c: &[f32]| {
            let v = f32x4_nearest(f32x4_mul(f32x4(c[0], c[1], c[2], c[3]), inv));
            i32x4_trunc_sat_f32x4(f32x4_pmin(f32x4_pmax(v, lo), hi))
        };
        let chunks = row.chunks_exact(8);
        let done = row.len() - chunks.remainder().len();
        for (c, o) in chunks.zip(out.chunks_exact_mut(8)) {
            let v = i16x8_narrow_i32x4(q(&c[..4]), q(&c[4..]));
            // SAFETY: `o` holds 8 i16 (16 bytes); wasm stores need no alignment.
            unsafe { v128_store(o.as_mut_ptr() as *mut v128, v) };
        }
        done
    }
}

/// The tract operator: one input (`x`), the packed weights inside.
#[derive(Clone, Debug)]
pub(crate) struct Int8Linear {
    pub(crate) weights: Arc<PackedWeights>,
}

impl PartialEq for Int8Linear {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.weights, &other.weights)
    }
}
impl Eq for Int8Linear {}

impl Op for Int8Linear {
    fn name(&self) -> StaticName {
        NAME.into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let w = &self.weights;
        let offsets = if w.offsets.is_some() { " with offsets" } else { "" };
        Ok(vec![format!("{} → {}, int8 weights{offsets} ({} bytes)", w.k, w.n, w.bytes())])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for Int8Linear {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let w = &self.weights;
        let x = &inputs[0];
        let shape = x.shape();
        ensure!(shape.last() == Some(&w.k), "input of shape {shape:?} for a layer {} wide", w.k);
        let rows = shape[..shape.len() - 1].iter().product::<usize>();
        let x = x.try_as_plain_ram()?;
        let x = x.as_slice::<f32>()?;
        let mut out_shape: TVec<usize> = shape.into();
        *out_shape.last_mut().unwrap() = w.n;
        let mut out = Tensor::zero::<f32>(&out_shape)?;
        w.matmul(x, rows, out.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?);
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Int8Linear {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let x = inputs[0];
        ensure!(x.datum_type == f32::datum_type() && x.rank() >= 1, "{NAME} takes f32 input, got {x:?}");
        ensure!(x.shape[x.rank() - 1] == self.weights.k.to_dim(), "{NAME}: input {x:?} is not {} wide", self.weights.k);
        let mut shape: TVec<TDim> = x.shape.iter().cloned().collect();
        *shape.last_mut().unwrap() = self.weights.n.to_dim();
        Ok(tvec!(f32::fact(shape)))
    }

    as_op!();
}

/// The ONNX side (the `onnx` feature): the op type `onnx::rewrite` writes, built by tract's ONNX
/// loader into [`Int8Linear`].
#[cfg(feature = "onnx")]
mod onnx {
    use super::{Int8Linear, PackedWeights};
    use std::sync::Arc;
    use tract_onnx::model::{OnnxOpRegister, ParsingContext};
    use tract_onnx::pb::NodeProto;
    use tract_onnx::tract_hir::internal::*;

    /// The ONNX op type `onnx::rewrite` writes: inputs `x` (f32 `[…, K]`), `q` (int8 `[K, N]`
    /// initializer), `s` (f32 `[1, N]`, `[N]` or one scale), optionally `o` (f32 offsets, `[N]`).
    pub(crate) const OP_TYPE: &str = super::NAME;

    /// Add [`OP_TYPE`] to an ONNX loader.
    pub(crate) fn register(ops: &mut OnnxOpRegister) {
        ops.insert(OP_TYPE, |_: &ParsingContext, _: &NodeProto| Ok((expand(Int8LinearExpansion), vec![])));
    }

    /// What the ONNX node becomes: rules for tract's type inference, then [`Int8Linear`] with the
    /// constant weights packed into it.
    #[derive(Clone, Debug)]
    struct Int8LinearExpansion;

    impl Expansion for Int8LinearExpansion {
        fn name(&self) -> StaticName {
            OP_TYPE.into()
        }

        fn rules<'r, 'p: 'r, 's: 'r>(
            &'s self,
            s: &mut Solver<'r>,
            inputs: &'p [TensorProxy],
            outputs: &'p [TensorProxy],
        ) -> InferenceResult {
            if inputs.len() != 4 {
                check_input_arity(inputs, 3)?;
            }
            check_output_arity(outputs, 1)?;
            s.equals(&inputs[0].datum_type, f32::datum_type())?;
            s.equals(&inputs[1].datum_type, i8::datum_type())?;
            s.equals(&outputs[0].datum_type, f32::datum_type())?;
            s.equals(&inputs[1].rank, 2)?;
            s.equals(&inputs[0].rank, &outputs[0].rank)?;
            s.given_2(&inputs[0].shape, &inputs[1].shape, move |s, x, q| {
                let mut out = x.clone();
                if let (Some(last), Some(n)) = (out.last_mut(), q.get(1)) {
                    *last = n.clone();
                }
                s.equals(&outputs[0].shape, out)
            })
        }

        fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
            let konst = |ix: usize, what: &str| {
                model
                    .outlet_fact(inputs[ix])?
                    .konst
                    .clone()
                    .with_context(|| format!("{OP_TYPE}: the {what} are not constant"))
            };
            let (q, s) = (konst(1, "weights")?, konst(2, "scales")?);
            let (k, n) = (q.shape()[0], q.shape()[1]);
            let q = q.try_as_plain_ram()?;
            let s = s.cast_to::<f32>()?;
            let s = s.try_as_plain_ram()?;
            let mut weights = PackedWeights::new(q.as_slice::<i8>()?, k, n, s.as_slice::<f32>()?)?;
            if inputs.len() == 4 {
                let o = konst(3, "offsets")?;
                let o = o.cast_to::<f32>()?;
                weights = weights.with_offsets(o.try_as_plain_ram()?.as_slice::<f32>()?)?;
            }
            model.wire_node(prefix, Int8Linear { weights: Arc::new(weights) }, &inputs[..1])
        }
    }
}

/// xorshift32: deterministic pseudo-random numbers, for the tests (here, in `tile` and in
/// `masked_softmax`) and the relaxed kernel's check at load (`relaxed::self_test`).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn next_random(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n).map(|_| (next_random(&mut state) as f32 / u32::MAX as f32) * 2.0 - 1.0).collect()
    }

    fn reference(x: &[f32], q: &[i8], s: &[f32], rows: usize, k: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0f64; rows * n];
        for m in 0..rows {
            for c in 0..n {
                let scale = f64::from(if s.len() == 1 { s[0] } else { s[c] });
                out[m * n + c] = (0..k).map(|i| f64::from(x[m * k + i]) * f64::from(q[i * n + c]) * scale).sum();
            }
        }
        out
    }

    /// Both kernels, each with the largest integer it quantises activations to (natively the
    /// relaxed one runs its portable loop, on the same integers as its SIMD code).
    const KERNELS: [(Kernel, i32); 2] = [(Kernel::Simd128, LIMIT), (Kernel::RelaxedSimd, relaxed::LIMIT)];

    fn weights(k: usize, n: usize, seed: u32) -> Vec<i8> {
        values(k * n, seed).iter().map(|v| (v * 127.5).floor().clamp(-128.0, 127.0) as i8).collect()
    }

    #[test]
    fn sums_at_their_extremes_do_not_overflow() {
        // every product at its extreme and of one sign, over several chunks and a partial one
        for k in [K_CHUNK, 1536, 3 * K_CHUNK + 40] {
            let n = 3;
            let layer = PackedWeights::new(&vec![-128i8; k * n], k, n, &[1.0]).unwrap();
            for (kernel, _) in KERNELS {
                let mut out = vec![0f32; n];
                layer.matmul_with(kernel, &vec![-1.0f32; k], 1, &mut out);
                assert_eq!(out, vec![k as f32 * 128.0; n], "k = {k}, {kernel:?}");
            }
        }
    }

    #[test]
    fn matmul_matches_f64_arithmetic_on_every_tile_shape() {
        // rows and columns that leave partial tiles and blocks; widths that need padding
        for ((rows, k, n), (kernel, limit)) in
            [(1, 8, 1), (3, 5, 3), (4, 16, 2), (17, 40, 7), (33, 384, 5), (6, 1536, 3), (5, 312, 4), (9, 1544, 3)]
                .into_iter()
                .flat_map(|shape| KERNELS.map(|kernel| (shape, kernel)))
        {
            let x = values(rows * k, 7 + k as u32);
            let q = weights(k, n, 11 + n as u32);
            let s = values(n, 3).iter().map(|v| 0.01 + v.abs() * 0.02).collect::<Vec<_>>();
            let layer = PackedWeights::new(&q, k, n, &s).unwrap();
            let mut out = vec![f32::NAN; rows * n];
            layer.matmul_with(kernel, &x, rows, &mut out);
            let want = reference(&x, &q, &s, rows, k, n);
            for m in 0..rows {
                // the bound: each activation is off by at most half a step of its row's scale
                let row_max = x[m * k..][..k].iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
                let step = row_max / f64::from(limit);
                for c in 0..n {
                    let bound = 0.5 * step * 128.0 * k as f64 * f64::from(s[c]) + 1e-5 * want[m * n + c].abs();
                    let (got, want) = (f64::from(out[m * n + c]), want[m * n + c]);
                    assert!((got - want).abs() <= bound, "{kernel:?} {rows}×{k}×{n} at ({m}, {c}): {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn the_error_is_far_below_the_bound_in_practice() {
        // a MiniLM width; relative to the output's spread, the error is around 1e-5 (16-bit
        // activations) and 4 times that (14-bit)
        let (rows, k, n) = (8, 384, 64);
        let x = values(rows * k, 5);
        let q = weights(k, n, 9);
        let layer = PackedWeights::new(&q, k, n, &[0.01]).unwrap();
        let want = reference(&x, &q, &[0.01], rows, k, n);
        let spread = (want.iter().map(|v| v * v).sum::<f64>() / want.len() as f64).sqrt();
        for (kernel, bound) in [(Kernel::Simd128, 1e-4), (Kernel::RelaxedSimd, 4e-4)] {
            let mut out = vec![0f32; rows * n];
            layer.matmul_with(kernel, &x, rows, &mut out);
            let worst = out.iter().zip(&want).map(|(g, w)| (f64::from(*g) - w).abs()).fold(0f64, f64::max);
            assert!(worst < bound * spread, "{kernel:?}: worst error {worst} against a spread of {spread}");
        }
    }

    #[test]
    fn zero_and_non_finite_rows() {
        let (k, n) = (8, 2);
        let layer = PackedWeights::new(&weights(k, n, 1), k, n, &[1.0, 2.0]).unwrap();
        let mut x = vec![0.5f32; 3 * k];
        x[..k].fill(0.0);
        x[k + 3] = f32::INFINITY;
        x[2 * k + 5] = f32::NAN;
        for (kernel, _) in KERNELS {
            let mut out = vec![f32::NAN; 3 * n];
            layer.matmul_with(kernel, &x, 3, &mut out);
            assert_eq!(&out[..n], &[0.0, 0.0]);
            assert!(out[n..].iter().all(|v| v.is_nan()), "rows with infinity or NaN give NaN, not a number: {out:?}");
        }
    }

    #[test]
    fn offsets_add_each_rows_sum_times_the_columns_offset() {
        // uint8 weights u with zero point z as (u - 128) plus (128 - z) · s per column: the same
        // products as (u - z) · s
        let (rows, k, n) = (5, 40, 3);
        let x = values(rows * k, 13);
        let u: Vec<u8> = (0..k * n).map(|i| (i * 37 % 256) as u8).collect();
        let (z, s) = ([3.0f32, 128.0, 250.0], [0.02f32, 0.01, 0.03]);
        let shifted: Vec<i8> = u.iter().map(|&v| (i16::from(v) - 128) as i8).collect();
        let offsets: Vec<f32> = (0..n).map(|c| (128.0 - z[c]) * s[c]).collect();
        let layer = PackedWeights::new(&shifted, k, n, &s).unwrap().with_offsets(&offsets).unwrap();
        for (kernel, _) in KERNELS {
            let mut out = vec![f32::NAN; rows * n];
            layer.matmul_with(kernel, &x, rows, &mut out);
            for m in 0..rows {
                for c in 0..n {
                    let want: f64 = (0..k)
                        .map(|i| {
                            f64::from(x[m * k + i]) * (f64::from(u[i * n + c]) - f64::from(z[c])) * f64::from(s[c])
                        })
                        .sum();
                    let got = f64::from(out[m * n + c]);
                    assert!((got - want).abs() <= 2e-3 * (1.0 + want.abs()), "{kernel:?} ({m}, {c}): {got} vs {want}");
                }
            }
        }
        assert!(PackedWeights::new(&shifted, k, n, &s).unwrap().with_offsets(&[1.0; 2]).is_err());
    }

    #[test]
    fn the_timed_product_runs_each_kernel() {
        let (i16, relaxed) = (time_matmul(Kernel::Simd128, 1), time_matmul(Kernel::RelaxedSimd, 1));
        assert!(i16.is_finite() && i16 != 0.0);
        assert!((i16 - relaxed).abs() <= 1e-3 * (1.0 + i16.abs()), "{i16} vs {relaxed}");
    }

    #[test]
    fn the_kernel_is_chosen_only_among_those_built() {
        assert_eq!(kernel(), Kernel::Simd128);
        assert_eq!(set_kernel(Kernel::RelaxedSimd), RELAXED_AVAILABLE);
        assert!(set_kernel(Kernel::Simd128));
        assert_eq!(kernel(), Kernel::Simd128);
    }

    #[test]
    fn refuses_inconsistent_weights() {
        assert!(PackedWeights::new(&[0i8; 6], 2, 2, &[1.0]).is_err());
        assert!(PackedWeights::new(&[0i8; 4], 2, 2, &[1.0; 3]).is_err());
        assert!(PackedWeights::new(&[], 0, 2, &[1.0]).is_err());
    }
}
