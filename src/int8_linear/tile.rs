//! The inner kernel of [`super::PackedWeights::matmul`]: the exact integer sums of a tile of
//! `ROWS` quantised activation rows (i16) against `COLS` weight columns (i8), along K.
//!
//! SIMD128's `i32x4.dot_i16x8_s` on wasm32 (where the operator is used), and a portable loop
//! that computes the same integers (native builds run f32 linear layers, see
//! `encoder::INT8_LINEAR`; they use it in tests).

/// Rows of a tile: each weight column loaded is used this many times.
pub(super) const ROWS: usize = 4;
/// Columns of a tile: each activation vector loaded is used this many times.
pub(super) const COLS: usize = 2;
/// The length of every row and column passed is a multiple of this.
pub(super) const K_STEP: usize = 8;

/// `sums[r][c] = Σ_k a[r][k] · w[c][k]`, for rows and columns of one length, a multiple of
/// [`K_STEP`], short enough that no sum overflows.
pub(super) type Tile = fn([&[i16]; ROWS], [&[i8]; COLS]) -> [[i32; COLS]; ROWS];

/// The fastest implementation for this target.
pub(super) fn best() -> Tile {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd128;
    #[allow(unreachable_code)]
    portable
}

fn check(a: &[&[i16]; ROWS], w: &[&[i8]; COLS]) -> usize {
    let len = a[0].len();
    assert!(len % K_STEP == 0 && a.iter().all(|r| r.len() == len) && w.iter().all(|c| c.len() == len));
    len
}

/// Any target: LLVM vectorises the eight lanes.
pub(super) fn portable(a: [&[i16]; ROWS], w: [&[i8]; COLS]) -> [[i32; COLS]; ROWS] {
    check(&a, &w);
    let mut sums = [[0i32; COLS]; ROWS];
    for (r, row) in a.iter().enumerate() {
        for (c, col) in w.iter().enumerate() {
            let mut acc = [0i32; 8];
            for (x, y) in row.chunks_exact(8).zip(col.chunks_exact(8)) {
                for l in 0..8 {
                    acc[l] += i32::from(x[l]) * i32::from(y[l]);
                }
            }
            sums[r][c] = acc.iter().sum();
        }
    }
    sums
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd128(a: [&[i16]; ROWS], w: [&[i8]; COLS]) -> [[i32; COLS]; ROWS] {
    use core::arch::wasm32::*;
    const { assert!(COLS == 2, "the loop below loads two weight columns") };
    let len = check(&a, &w);
    let zero = i32x4_splat(0);
    let mut s = [[zero; COLS]; ROWS];
    let mut k = 0;
    while k < len {
        // SAFETY: k + 8 <= len for every row and column (checked above); wasm loads need no
        // alignment.
        unsafe {
            let w0 = i16x8_load_extend_i8x8(w[0].as_ptr().add(k));
            let w1 = i16x8_load_extend_i8x8(w[1].as_ptr().add(k));
            for r in 0..ROWS {
                let x = v128_load(a[r].as_ptr().add(k) as *const v128);
                s[r][0] = i32x4_add(s[r][0], i32x4_dot_i16x8(x, w0));
                s[r][1] = i32x4_add(s[r][1], i32x4_dot_i16x8(x, w1));
            }
        }
        k += 8;
    }
    let sum = |v: v128| i32x4_extract_lane::<0>(v) + i32x4_extract_lane::<1>(v) + i32x4_extract_lane::<2>(v) + i32x4_extract_lane::<3>(v);
    s.map(|row| row.map(sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sums_are_exact() {
        let mut state = 0x9e37_79b9u32;
        let mut next = || super::super::next_random(&mut state);
        for len in [K_STEP, 3 * K_STEP, 512] {
            // (on wasm32 this runs the SIMD128 kernel against the portable one)
            let rows: Vec<Vec<i16>> = (0..ROWS).map(|_| (0..len).map(|_| next() as i16).collect()).collect();
            let cols: Vec<Vec<i8>> = (0..COLS).map(|_| (0..len).map(|_| next() as i8).collect()).collect();
            // the extremes too: every product at its largest, of one sign
            let mut rows_max = rows.clone();
            rows_max[1].fill(-i16::MAX);
            let mut cols_max = cols.clone();
            cols_max[0].fill(-128);
            for (rows, cols) in [(&rows, &cols), (&rows_max, &cols_max)] {
                let a: [&[i16]; ROWS] = std::array::from_fn(|r| rows[r].as_slice());
                let w: [&[i8]; COLS] = std::array::from_fn(|c| cols[c].as_slice());
                let want = portable(a, w);
                let exact: Vec<i64> = (0..ROWS * COLS)
                    .map(|i| (0..len).map(|k| i64::from(rows[i / COLS][k]) * i64::from(cols[i % COLS][k])).sum())
                    .collect();
                assert_eq!(want.iter().flatten().map(|&v| i64::from(v)).collect::<Vec<_>>(), exact);
                assert_eq!(best()(a, w), want, "len {len}");
            }
        }
    }
}
