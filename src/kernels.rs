//! Small numeric kernels on the hot paths: dot products, pooling, normalisation, top-k.
//!
//! Written so that LLVM vectorises them (eight independent accumulators, no bounds checks in
//! the inner loop): SSE/AVX natively, SIMD128 on wasm32 with `+simd128`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

const LANES: usize = 8;

/// Dot product of two equal-length slices (extra elements of the longer one are ignored).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let (mut xs, mut ys) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (x, y) in (&mut xs).zip(&mut ys) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = xs.remainder().iter().zip(ys.remainder()).map(|(x, y)| x * y).sum();
    (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]) + tail
}

/// Symmetric int8 quantization of `v` into `out` (same length): `v ≈ scale · out`.
/// Returns `scale` (0 for a zero vector).
pub fn quantize_i8(v: &[f32], out: &mut [i8]) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        out.iter_mut().for_each(|o| *o = 0);
        return 0.0;
    }
    let inv = 127.0 / max;
    out.iter_mut().zip(v).for_each(|(o, x)| *o = (x * inv).round().clamp(-127.0, 127.0) as i8);
    max / 127.0
}

/// Dot product of two int8 slices, accumulated exactly in i32 (vectorised to
/// `pmaddwd` / `i32x4.dot_i16x8_s`).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    const W: usize = 16;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; W];
    let (mut xs, mut ys) = (a.chunks_exact(W), b.chunks_exact(W));
    for (x, y) in (&mut xs).zip(&mut ys) {
        for l in 0..W {
            acc[l] += x[l] as i16 as i32 * y[l] as i16 as i32;
        }
    }
    let tail: i32 = xs.remainder().iter().zip(ys.remainder()).map(|(&x, &y)| x as i32 * y as i32).sum();
    acc.iter().sum::<i32>() + tail
}

/// `out[r] = dot(row r of vectors, q)` for the rows of `vectors` (row-major, `q.len()` wide;
/// `out.len()` rows), each equal to [`dot`] bit for bit. On wasm32 with SIMD128 four rows share
/// each load of the query.
pub fn dot_rows(vectors: &[f32], q: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let blocks = dot_rows_simd128;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let blocks = no_blocks;
    rows(vectors, q, out, blocks, dot)
}

/// `out[r] = one(row r of data, q)` for the rows of `data` (row-major, `q.len()` wide;
/// `out.len()` rows). `blocks` does the leading rows first and says how many; it is called only
/// when `q.len()` is a non-zero multiple of 8 (the SIMD128 kernels' step).
fn rows<T, O: Copy + Default>(
    data: &[T],
    q: &[T],
    out: &mut [O],
    blocks: fn(&[T], &[T], &mut [O]) -> usize,
    one: fn(&[T], &[T]) -> O,
) {
    let dim = q.len();
    if dim == 0 {
        out.fill(O::default());
        return;
    }
    let done = if dim % 8 == 0 { blocks(data, q, out) } else { 0 };
    for (row, o) in data[done * dim..].chunks_exact(dim).zip(&mut out[done..]) {
        *o = one(row, q);
    }
}

/// Without SIMD128 every row goes through the one-row kernel.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn no_blocks<T, O>(_: &[T], _: &[T], _: &mut [O]) -> usize {
    0
}

/// The whole blocks of four rows of [`dot_rows`]; returns how many rows it did. Lanes 0–3 and
/// 4–7 of [`dot`]'s eight accumulators are two `f32x4`s, summed in `dot`'s order.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn dot_rows_simd128(vectors: &[f32], q: &[f32], out: &mut [f32]) -> usize {
    use core::arch::wasm32::*;
    let dim = q.len();
    let qv: Vec<v128> = q.chunks_exact(4).map(|c| f32x4(c[0], c[1], c[2], c[3])).collect();
    let blocks = (out.len() / 4).min(vectors.len() / (4 * dim));
    for (block, o) in vectors.chunks_exact(4 * dim).zip(out.chunks_exact_mut(4)).take(blocks) {
        let p = block.as_ptr();
        let mut acc = [[f32x4_splat(0.0); 2]; 4];
        for (j, pair) in qv.chunks_exact(2).enumerate() {
            for (r, a) in acc.iter_mut().enumerate() {
                // SAFETY: r * dim + 8 * j + 8 <= 4 * dim = block.len() (dim is a multiple of 8)
                let (lo, hi) =
                    unsafe { (v128_load(p.add(r * dim + 8 * j).cast()), v128_load(p.add(r * dim + 8 * j + 4).cast())) };
                a[0] = f32x4_add(a[0], f32x4_mul(lo, pair[0]));
                a[1] = f32x4_add(a[1], f32x4_mul(hi, pair[1]));
            }
        }
        for (o, [lo, hi]) in o.iter_mut().zip(acc) {
            let s = f32x4_add(lo, hi);
            *o = f32x4_extract_lane::<0>(s)
                + f32x4_extract_lane::<1>(s)
                + f32x4_extract_lane::<2>(s)
                + f32x4_extract_lane::<3>(s);
        }
    }
    4 * blocks
}

/// `out[r] = dot_i8(row r of codes, q)` for the rows of `codes` (row-major, `q.len()` wide;
/// `out.len()` rows). On wasm32 with SIMD128 four rows share each load of the query (widened
/// to i16 once) and every 8 codes take one `i16x8.load8x8_s` and one `i32x4.dot_i16x8_s`.
pub fn dot_i8_rows(codes: &[i8], q: &[i8], out: &mut [i32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let blocks = dot_i8_rows_simd128;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let blocks = no_blocks;
    rows(codes, q, out, blocks, dot_i8)
}

/// The whole blocks of four rows of [`dot_i8_rows`]; returns how many rows it did.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn dot_i8_rows_simd128(codes: &[i8], q: &[i8], out: &mut [i32]) -> usize {
    use core::arch::wasm32::*;
    let dim = q.len();
    let q16: Vec<v128> = q
        .chunks_exact(8)
        .map(|c| {
            i16x8(
                c[0] as i16,
                c[1] as i16,
                c[2] as i16,
                c[3] as i16,
                c[4] as i16,
                c[5] as i16,
                c[6] as i16,
                c[7] as i16,
            )
        })
        .collect();
    let blocks = (out.len() / 4).min(codes.len() / (4 * dim));
    for (block, o) in codes.chunks_exact(4 * dim).zip(out.chunks_exact_mut(4)).take(blocks) {
        let p = block.as_ptr();
        let mut acc = [i32x4_splat(0); 4];
        for (j, &qv) in q16.iter().enumerate() {
            for (r, a) in acc.iter_mut().enumerate() {
                // SAFETY: r * dim + 8 * j + 8 <= 4 * dim = block.len() (dim is a multiple of 8)
                let x = unsafe { i16x8_load_extend_i8x8(p.add(r * dim + 8 * j)) };
                *a = i32x4_add(*a, i32x4_dot_i16x8(x, qv));
            }
        }
        for (o, a) in o.iter_mut().zip(acc) {
            *o = i32x4_extract_lane::<0>(a)
                + i32x4_extract_lane::<1>(a)
                + i32x4_extract_lane::<2>(a)
                + i32x4_extract_lane::<3>(a);
        }
    }
    4 * blocks
}

/// Scale `v` to unit L2 norm in place (a zero vector stays zero).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 && norm.is_finite() {
        let inv = 1.0 / norm;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

/// Mean of the rows of `states` (`[seq, hidden]`, row-major) whose mask is set.
pub fn masked_mean(states: &[f32], mask: &[i64], hidden: usize) -> Vec<f32> {
    let mut out = vec![0f32; hidden];
    let mut count = 0usize;
    for (row, &m) in states.chunks_exact(hidden).zip(mask) {
        if m != 0 {
            count += 1;
            out.iter_mut().zip(row).for_each(|(o, x)| *o += x);
        }
    }
    if count > 0 {
        let inv = 1.0 / count as f32;
        out.iter_mut().for_each(|x| *x *= inv);
    }
    out
}

/// The logistic function, stable for large |x|.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[derive(PartialEq)]
struct MinScored(f32, usize);
impl Eq for MinScored {}
impl PartialOrd for MinScored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MinScored {
    // reversed: the heap's top is the smallest score (ties: the largest index, so lower indices win)
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// Indices and scores of the `k` largest scores, best first; ties keep the lower index first.
/// NaN scores are never selected.
pub fn top_k(scores: impl IntoIterator<Item = f32>, k: usize) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let scores = scores.into_iter();
    // sized by what there is to rank, not by what is asked: `k` may be far larger than the list
    let mut heap: BinaryHeap<MinScored> = BinaryHeap::with_capacity(k.min(scores.size_hint().0).saturating_add(1));
    for (i, s) in scores.enumerate() {
        if s.is_nan() {
            continue;
        }
        if heap.len() < k {
            heap.push(MinScored(s, i));
        } else if let Some(min) = heap.peek() {
            if s > min.0 {
                heap.pop();
                heap.push(MinScored(s, i));
            }
        }
    }
    let mut out: Vec<(usize, f32)> = heap.into_iter().map(|m| (m.1, m.0)).collect();
    sort_desc(&mut out);
    out
}

/// Sort `(index, score)` by score descending, ties by index ascending.
pub fn sort_desc(v: &mut [(usize, f32)]) {
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_for_all_tails() {
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-5, "n={n}");
        }
    }

    #[test]
    fn int8_dot_approximates_the_f32_dot() {
        for n in [0usize, 5, 16, 37, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let (mut qa, mut qb) = (vec![0i8; n], vec![0i8; n]);
            let (sa, sb) = (quantize_i8(&a, &mut qa), quantize_i8(&b, &mut qb));
            let naive: i32 = qa.iter().zip(&qb).map(|(&x, &y)| x as i32 * y as i32).sum();
            assert_eq!(dot_i8(&qa, &qb), naive, "n={n}");
            let approx = sa * sb * dot_i8(&qa, &qb) as f32;
            assert!(
                (approx - dot(&a, &b)).abs() < 0.01 * (n as f32).sqrt().max(1.0),
                "n={n}: {approx} vs {}",
                dot(&a, &b)
            );
        }
        let mut q = [0i8; 3];
        assert_eq!(quantize_i8(&[0.0; 3], &mut q), 0.0);
        assert_eq!(quantize_i8(&[1.0, -0.5, 0.0], &mut q), 1.0 / 127.0);
        assert_eq!(q, [127, -64, 0]);
    }

    #[test]
    fn dot_rows_equals_dot_per_row_bit_for_bit() {
        for dim in [0usize, 3, 8, 16, 20, 384] {
            for rows in [0usize, 1, 4, 7, 9] {
                let vectors: Vec<f32> = (0..rows * dim).map(|i| (i as f32 * 0.731).sin()).collect();
                let q: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.173).cos()).collect();
                let mut out = vec![f32::NAN; rows];
                dot_rows(&vectors, &q, &mut out);
                let want: Vec<f32> =
                    if dim == 0 { vec![0.0; rows] } else { vectors.chunks_exact(dim).map(|r| dot(r, &q)).collect() };
                assert_eq!(
                    out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    "dim={dim} rows={rows}"
                );
            }
        }
    }

    #[test]
    fn dot_i8_rows_equals_dot_i8_per_row() {
        for dim in [0usize, 3, 8, 16, 24, 384] {
            for rows in [0usize, 1, 4, 7, 9] {
                let codes: Vec<i8> = (0..rows * dim).map(|i| ((i * 37 + 11) % 255) as i32 as i8).collect();
                let q: Vec<i8> =
                    (0..dim).map(|i| if i % 3 == 0 { -128 } else { ((i * 53) % 251) as i32 as i8 }).collect();
                let mut out = vec![-1; rows];
                dot_i8_rows(&codes, &q, &mut out);
                let want: Vec<i32> =
                    if dim == 0 { vec![0; rows] } else { codes.chunks_exact(dim).map(|r| dot_i8(r, &q)).collect() };
                assert_eq!(out, want, "dim={dim} rows={rows}");
            }
        }
    }

    #[test]
    fn normalize_gives_unit_norm_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let mut z = vec![0.0; 5];
        l2_normalize(&mut z);
        assert!(z.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn masked_mean_ignores_padding() {
        let states = [1.0, 2.0, 3.0, 4.0, 100.0, 100.0];
        assert_eq!(masked_mean(&states, &[1, 1, 0], 2), vec![2.0, 3.0]);
    }

    #[test]
    fn sigmoid_is_stable() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(100.0) <= 1.0 && sigmoid(100.0) > 0.999);
        assert!(sigmoid(-100.0) >= 0.0 && sigmoid(-100.0) < 1e-10);
        assert!(sigmoid(-1000.0).is_finite());
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        let s = [0.1, 0.9, 0.5, 0.9, f32::NAN, -1.0];
        assert_eq!(top_k(s, 3), vec![(1, 0.9), (3, 0.9), (2, 0.5)]);
        assert_eq!(top_k(s, 0), vec![]);
        assert_eq!(top_k(s, 100).len(), 5);
        // a k far beyond the list allocates for the list, not for k (this aborted on allocation)
        assert_eq!(top_k(s, usize::MAX / 2).len(), 5);
        assert_eq!(top_k(s, usize::MAX), top_k(s, 6));
    }
}
