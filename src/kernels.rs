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
    let mut heap: BinaryHeap<MinScored> = BinaryHeap::with_capacity(k + 1);
    for (i, s) in scores.into_iter().enumerate() {
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
            assert!((approx - dot(&a, &b)).abs() < 0.01 * (n as f32).sqrt().max(1.0), "n={n}: {approx} vs {}", dot(&a, &b));
        }
        let mut q = [0i8; 3];
        assert_eq!(quantize_i8(&[0.0; 3], &mut q), 0.0);
        assert_eq!(quantize_i8(&[1.0, -0.5, 0.0], &mut q), 1.0 / 127.0);
        assert_eq!(q, [127, -64, 0]);
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
    }
}
