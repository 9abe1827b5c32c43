//! The inner kernel of [`super::PackedWeights::matmul`]: the exact integer sums of a tile of
//! `ROWS` quantised activation rows (i16) against `COLS` weight columns (i8), along K.
//!
//! SIMD128's `i32x4.dot_i16x8_s` on wasm32 (where the operator is used), and a portable loop
//! that computes the same integers (native builds run f32 linear layers, see
//! `encoder::INT8_LINEAR`; they use it in tests).

use super::K_CHUNK;

/// Rows of a tile: each weight column loaded is used this many times.
pub(super) const ROWS: usize = 4;
/// Columns of a tile: each activation vector loaded is used this many times.
pub(super) const COLS: usize = 2;
/// The length of every row and column passed is a multiple of this.
pub(super) const K_STEP: usize = 8;

/// `sums[r][c] = Σ_{k < len} a[r · a_stride + k] · w[c · w_stride + k]`: `ROWS` rows of `a` and
/// `COLS` columns of `w` (a stride of 0 reads one column twice), `len` a multiple of [`K_STEP`].
/// The products are summed exactly in i32, [`K_CHUNK`] at a time, and the chunks' sums added in
/// f32 in order. One call per tile of the layer's output: rows and columns come as two slices and
/// their strides, so that a call costs little besides its loop.
pub(super) type Tile = fn(a: &[i16], a_stride: usize, w: &[i8], w_stride: usize, len: usize) -> [[f32; COLS]; ROWS];

/// The fastest implementation for this target.
pub(super) fn best() -> Tile {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd128;
    #[allow(unreachable_code)]
    portable
}

/// Panics unless every row and column of the tile lies in its slice.
fn check(a: &[i16], a_stride: usize, w: &[i8], w_stride: usize, len: usize) {
    assert!(len % K_STEP == 0 && a.len() >= (ROWS - 1) * a_stride + len && w.len() >= (COLS - 1) * w_stride + len);
}

/// Any target: LLVM vectorises the eight lanes.
pub(super) fn portable(a: &[i16], a_stride: usize, w: &[i8], w_stride: usize, len: usize) -> [[f32; COLS]; ROWS] {
    check(a, a_stride, w, w_stride, len);
    let mut sums = [[0f32; COLS]; ROWS];
    for k in (0..len).step_by(K_CHUNK) {
        let n = K_CHUNK.min(len - k);
        for (r, sums) in sums.iter_mut().enumerate() {
            let row = &a[r * a_stride + k..][..n];
            for (c, sum) in sums.iter_mut().enumerate() {
                let col = &w[c * w_stride + k..][..n];
                let mut acc = [0i32; 8];
                for (x, y) in row.chunks_exact(8).zip(col.chunks_exact(8)) {
                    for l in 0..8 {
                        acc[l] += i32::from(x[l]) * i32::from(y[l]);
                    }
                }
                *sum += acc.iter().sum::<i32>() as f32;
            }
        }
    }
    sums
}

/// `[Σ p, Σ q, Σ r, Σ s]`, each over its four lanes (exact: `K_CHUNK` bounds every sum).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub(super) fn lane_sums(
    p: core::arch::wasm32::v128,
    q: core::arch::wasm32::v128,
    r: core::arch::wasm32::v128,
    s: core::arch::wasm32::v128,
) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    let pq = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(p, q), i32x4_shuffle::<2, 6, 3, 7>(p, q));
    let rs = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(r, s), i32x4_shuffle::<2, 6, 3, 7>(r, s));
    i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(pq, rs), i32x4_shuffle::<2, 3, 6, 7>(pq, rs))
}

/// The tile from its two halves' sums: `top` = `[r0 · c0, r0 · c1, r1 · c0, r1 · c1]`, `bottom` the
/// same for rows 2–3.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub(super) fn tile_of(top: core::arch::wasm32::v128, bottom: core::arch::wasm32::v128) -> [[f32; COLS]; ROWS] {
    use core::arch::wasm32::*;
    let lanes = |v: v128| {
        [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
    };
    let ([t0, t1, t2, t3], [b0, b1, b2, b3]) = (lanes(top), lanes(bottom));
    [[t0, t1], [t2, t3], [b0, b1], [b2, b3]]
}

/// SIMD128: per 8 values of K, two weight loads (widened to i16), four activation loads and
/// eight `i32x4.dot_i16x8_s`. Each chunk's eight accumulators are summed across their lanes by
/// shuffles, four at a time, and converted to f32 together.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd128(a: &[i16], a_stride: usize, w: &[i8], w_stride: usize, len: usize) -> [[f32; COLS]; ROWS] {
    use core::arch::wasm32::*;
    const { assert!(COLS == 2 && ROWS == 4, "the loop below makes a 4 × 2 tile") };
    check(a, a_stride, w, w_stride, len);
    let (a, w) = (a.as_ptr(), w.as_ptr());
    // rows 0–1, and rows 2–3: [r · c0, r · c1, (r + 1) · c0, (r + 1) · c1]
    let (mut top, mut bottom) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut k = 0;
    while k < len {
        let end = (k + K_CHUNK).min(len);
        let mut s = [[i32x4_splat(0); COLS]; ROWS];
        while k < end {
            // SAFETY: r · a_stride + k + 8 <= (ROWS − 1) · a_stride + len <= a.len(), and the
            // same for the columns (checked above); wasm loads need no alignment.
            unsafe {
                let w0 = i16x8_load_extend_i8x8(w.add(k));
                let w1 = i16x8_load_extend_i8x8(w.add(w_stride + k));
                for (r, s) in s.iter_mut().enumerate() {
                    let x = v128_load(a.add(r * a_stride + k) as *const v128);
                    s[0] = i32x4_add(s[0], i32x4_dot_i16x8(x, w0));
                    s[1] = i32x4_add(s[1], i32x4_dot_i16x8(x, w1));
                }
            }
            k += 8;
        }
        top = f32x4_add(top, f32x4_convert_i32x4(lane_sums(s[0][0], s[0][1], s[1][0], s[1][1])));
        bottom = f32x4_add(bottom, f32x4_convert_i32x4(lane_sums(s[2][0], s[2][1], s[3][0], s[3][1])));
    }
    tile_of(top, bottom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sums_are_exact() {
        let mut state = 0x9e37_79b9u32;
        let mut next = || super::super::next_random(&mut state);
        for len in [K_STEP, 3 * K_STEP, 512, 3 * 512 + K_STEP] {
            // (on wasm32 this runs the SIMD128 kernel against the portable one)
            let rows: Vec<Vec<i16>> = (0..ROWS).map(|_| (0..len).map(|_| next() as i16).collect()).collect();
            let cols: Vec<Vec<i8>> = (0..COLS).map(|_| (0..len).map(|_| next() as i8).collect()).collect();
            // the extremes too: every product at its largest, of one sign
            let mut rows_max = rows.clone();
            rows_max[1].fill(-i16::MAX);
            let mut cols_max = cols.clone();
            cols_max[0].fill(-128);
            for (rows, cols) in [(&rows, &cols), (&rows_max, &cols_max)] {
                // the rows (and columns) one after another, at a stride longer than `len`
                let stride = len + K_STEP;
                let mut a = vec![0i16; ROWS * stride];
                rows.iter().enumerate().for_each(|(r, row)| a[r * stride..][..len].copy_from_slice(row));
                let mut w = vec![0i8; COLS * stride];
                cols.iter().enumerate().for_each(|(c, col)| w[c * stride..][..len].copy_from_slice(col));
                let want = portable(&a, stride, &w, stride, len);
                // each chunk's exact sum (it fits i32), converted, and the chunks added in order
                let exact: Vec<f32> = (0..ROWS * COLS)
                    .map(|i| {
                        (0..len).step_by(K_CHUNK).fold(0f32, |acc, k0| {
                            let chunk: i64 = (k0..len.min(k0 + K_CHUNK))
                                .map(|k| i64::from(rows[i / COLS][k]) * i64::from(cols[i % COLS][k]))
                                .sum();
                            acc + i32::try_from(chunk).unwrap() as f32
                        })
                    })
                    .collect();
                assert_eq!(
                    want.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    exact.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
                let bits = |t: [[f32; COLS]; ROWS]| t.map(|r| r.map(f32::to_bits));
                assert_eq!(bits(best()(&a, stride, &w, stride, len)), bits(want), "len {len}");
                // a stride of 0 reads the first column twice
                let twice = portable(&a, stride, &w, 0, len);
                assert!(twice.iter().zip(&want).all(|(t, w)| t[0] == w[0] && t[1] == w[0]));
                assert_eq!(bits(best()(&a, stride, &w, 0, len)), bits(twice));
            }
        }
    }
}
