//! The relaxed-SIMD kernel: the same tile as [`super::tile`], with 14-bit activations split into
//! two 7-bit halves, so that WebAssembly relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s`
//! (16 multiply-adds per instruction; one `vpdpbusd` where the CPU has AVX-VNNI) can take them.
//!
//! - Each activation `x` (quantised to `±`[`LIMIT`]) is stored as `v = x + 8192 = 128 · hi + lo`,
//!   `hi` and `lo` in `0..=127`: the instruction's second operand must not have its top bit set
//!   (the result is implementation-defined then: AVX-VNNI reads it unsigned, `pmaddubsw`
//!   saturates), and with 7 bits a pair of products (≤ 2 · 128 · 127) never saturates an i16 step.
//!   Every engine therefore computes the same exact sums.
//! - Per 16 values of K a row holds its 16 `hi` bytes, then its 16 `lo` bytes ([`split`]); a last
//!   block of 8 (K padded to 8, not 16) holds 8 of each and runs on `i32x4.dot_i16x8_s`.
//! - A chunk of [`K_CHUNK`] sums `128 · Σ w · hi + Σ w · lo − 8192 · Σ w` in wrapping i32: exact,
//!   since the result `Σ w · x` fits ([`K_CHUNK`] · 128 · 8191 < 2³¹). `Σ w` per column and chunk
//!   is computed once per layer ([`column_sums`]).
//!
//! The cost is two bits of the activations: a quantisation error 4 times the i16 kernel's
//! (2⁻¹⁴ of a row's largest value instead of 2⁻¹⁶). Measured in benches/relaxed-simd: 0.8 of the
//! i16 kernel's time per tile in Chromium on AVX-VNNI CPUs, 2.4 times it without VNNI (so the
//! package times both at load, [`super::time_matmul`], and keeps the faster,
//! `pkg-config/lib/load-core.js`).
use super::tile::{COLS, K_STEP, ROWS};
use super::K_CHUNK;

/// The largest integer an activation is quantised to.
pub(super) const LIMIT: i32 = 8191;
/// `x + OFFSET` is in `1..=16383`: two 7-bit halves.
const OFFSET: i32 = 8192;
/// Values of K per relaxed instruction.
const BLOCK: usize = 16;

/// The relaxed tile: `sums[r][c] = Σ_k x[r][k] · w[c][k]`, `x` read from its byte layout (`a`, a row
/// every `a_stride` bytes), chunk by chunk as in [`super::tile::Tile`]; `chunk_sums[c]` holds
/// column `c`'s `Σ w` per chunk.
pub(super) type Tile = fn(
    a: &[u8],
    a_stride: usize,
    w: &[i8],
    w_stride: usize,
    len: usize,
    chunk_sums: [&[i32]; COLS],
) -> [[f32; COLS]; ROWS];

/// The SIMD kernel where this build has relaxed SIMD, else the portable one.
pub(super) fn best() -> Tile {
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    return simd;
    #[allow(unreachable_code)]
    portable
}

/// Whether this build runs relaxed-SIMD instructions (the `relaxed-simd` feature on wasm32).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) const AVAILABLE: bool = cfg!(all(target_arch = "wasm32", feature = "relaxed-simd"));

/// Writes the activations `q` (`len` of them, a multiple of [`K_STEP`], each in `±LIMIT`) as the
/// kernel reads them: `2 · len` bytes.
pub(super) fn split(q: &[i16], out: &mut [u8]) {
    debug_assert!(q.len() % K_STEP == 0 && out.len() == 2 * q.len());
    let mut k = 0;
    while k < q.len() {
        let n = BLOCK.min(q.len() - k);
        let (hi, lo) = out[2 * k..][..2 * n].split_at_mut(n);
        for ((h, l), &x) in hi.iter_mut().zip(lo.iter_mut()).zip(&q[k..][..n]) {
            let v = i32::from(x) + OFFSET;
            debug_assert!((1..2 * OFFSET).contains(&v));
            (*h, *l) = ((v >> 7) as u8, (v & 127) as u8);
        }
        k += n;
    }
}

/// `Σ w` of every column (`columns`: `[N, kp]`), per chunk of [`K_CHUNK`]: `[N, chunks]`.
pub(super) fn column_sums(columns: &[i8], kp: usize) -> Vec<i32> {
    columns
        .chunks_exact(kp)
        .flat_map(|col| col.chunks(K_CHUNK).map(|c| c.iter().map(|&w| i32::from(w)).sum::<i32>()))
        .collect()
}

/// Panics unless every row, column and chunk sum of the tile lies in its slice.
fn check(a: &[u8], a_stride: usize, w: &[i8], w_stride: usize, len: usize, chunk_sums: [&[i32]; COLS]) {
    assert!(
        len % K_STEP == 0
            && a.len() >= (ROWS - 1) * a_stride + 2 * len
            && w.len() >= (COLS - 1) * w_stride + len
            && chunk_sums.iter().all(|s| s.len() >= len.div_ceil(K_CHUNK))
    );
}

/// Any target: the same integers, from the halves put back together.
pub(super) fn portable(
    a: &[u8],
    a_stride: usize,
    w: &[i8],
    w_stride: usize,
    len: usize,
    chunk_sums: [&[i32]; COLS],
) -> [[f32; COLS]; ROWS] {
    check(a, a_stride, w, w_stride, len, chunk_sums);
    let value = |row: &[u8], k: usize| {
        let (start, n) = (k - k % BLOCK, BLOCK.min(len - (k - k % BLOCK)));
        let block = &row[2 * start..];
        128 * i32::from(block[k - start]) + i32::from(block[n + k - start])
    };
    let mut sums = [[0f32; COLS]; ROWS];
    for (chunk, k0) in (0..len).step_by(K_CHUNK).enumerate() {
        for (r, sums) in sums.iter_mut().enumerate() {
            let row = &a[r * a_stride..];
            for (c, sum) in sums.iter_mut().enumerate() {
                let col = &w[c * w_stride..];
                let s = (k0..len.min(k0 + K_CHUNK))
                    .fold(0i32, |s, k| s.wrapping_add(i32::from(col[k]).wrapping_mul(value(row, k))));
                *sum += s.wrapping_sub(OFFSET.wrapping_mul(chunk_sums[c][chunk])) as f32;
            }
        }
    }
    sums
}

/// Per 16 values of K: two weight loads, eight activation loads (both halves of four rows) and
/// sixteen relaxed dots into sixteen accumulators; a chunk's `128 · hi + lo` is summed across
/// lanes as the i16 kernel does, less `8192 · Σ w`. Compiled with relaxed SIMD enabled (an
/// instruction per dot; without it each would be a call).
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
#[target_feature(enable = "relaxed-simd")]
fn simd(
    a: &[u8],
    a_stride: usize,
    w: &[i8],
    w_stride: usize,
    len: usize,
    chunk_sums: [&[i32]; COLS],
) -> [[f32; COLS]; ROWS] {
    use super::tile::{lane_sums, tile_of};
    use core::arch::wasm32::*;
    const { assert!(COLS == 2 && ROWS == 4, "the loop below makes a 4 × 2 tile") };
    check(a, a_stride, w, w_stride, len, chunk_sums);
    let (ap, wp) = (a.as_ptr(), w.as_ptr());
    let (mut top, mut bottom) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let (mut k, mut chunk) = (0, 0);
    while k < len {
        let end = (k + K_CHUNK).min(len);
        let mut hi = [[i32x4_splat(0); COLS]; ROWS];
        let mut lo = [[i32x4_splat(0); COLS]; ROWS];
        // SAFETY (every load below): r · a_stride + 2 · (k + block) <= (ROWS − 1) · a_stride + 2 · len
        // <= a.len(), and the same for the columns (checked above); wasm loads need no alignment.
        while k + BLOCK <= end {
            unsafe {
                let w0 = v128_load(wp.add(k) as *const v128);
                let w1 = v128_load(wp.add(w_stride + k) as *const v128);
                for (r, (hi, lo)) in hi.iter_mut().zip(&mut lo).enumerate() {
                    let p = ap.add(r * a_stride + 2 * k);
                    let (h, l) = (v128_load(p as *const v128), v128_load(p.add(BLOCK) as *const v128));
                    hi[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, h, hi[0]);
                    hi[1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, h, hi[1]);
                    lo[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, l, lo[0]);
                    lo[1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, l, lo[1]);
                }
            }
            k += BLOCK;
        }
        let mut s: [[v128; COLS]; ROWS] =
            core::array::from_fn(|r| core::array::from_fn(|c| i32x4_add(i32x4_shl(hi[r][c], 7), lo[r][c])));
        if k < end {
            // the last 8 values (K padded to 8): 128 · hi + lo rebuilt in i16, and i16 dots
            unsafe {
                let w0 = i16x8_load_extend_i8x8(wp.add(k));
                let w1 = i16x8_load_extend_i8x8(wp.add(w_stride + k));
                for (r, s) in s.iter_mut().enumerate() {
                    let p = ap.add(r * a_stride + 2 * k);
                    let v = i16x8_add(i16x8_shl(u16x8_load_extend_u8x8(p), 7), u16x8_load_extend_u8x8(p.add(8)));
                    s[0] = i32x4_add(s[0], i32x4_dot_i16x8(v, w0));
                    s[1] = i32x4_add(s[1], i32x4_dot_i16x8(v, w1));
                }
            }
            k = end;
        }
        let (c0, c1) = (OFFSET.wrapping_mul(chunk_sums[0][chunk]), OFFSET.wrapping_mul(chunk_sums[1][chunk]));
        let offsets = i32x4(c0, c1, c0, c1);
        top = f32x4_add(top, f32x4_convert_i32x4(i32x4_sub(lane_sums(s[0][0], s[0][1], s[1][0], s[1][1]), offsets)));
        bottom =
            f32x4_add(bottom, f32x4_convert_i32x4(i32x4_sub(lane_sums(s[2][0], s[2][1], s[3][0], s[3][1]), offsets)));
        chunk += 1;
    }
    tile_of(top, bottom)
}

/// A tile of fixed random data and its exact sums, for [`self_test`].
#[cfg(any(target_arch = "wasm32", test))]
struct Sample {
    len: usize,
    q: Vec<i16>,
    bytes: Vec<u8>,
    w: Vec<i8>,
    sums: Vec<i32>,
}

#[cfg(any(target_arch = "wasm32", test))]
impl Sample {
    /// `len` values of K (a multiple of [`K_STEP`]); `extreme` puts every product at its largest.
    fn new(len: usize, seed: u32, extreme: bool) -> Self {
        let mut state = seed;
        let mut next = || super::next_random(&mut state);
        let q: Vec<i16> = (0..ROWS * len)
            .map(|i| {
                if extreme && i / len == 1 {
                    -(LIMIT as i16)
                } else {
                    (next() % (2 * LIMIT as u32 + 1)) as i16 - LIMIT as i16
                }
            })
            .collect();
        let w: Vec<i8> = (0..COLS * len).map(|i| if extreme && i < len { -128 } else { next() as i8 }).collect();
        let mut bytes = vec![0u8; 2 * q.len()];
        for (row, out) in q.chunks_exact(len).zip(bytes.chunks_exact_mut(2 * len)) {
            split(row, out);
        }
        let sums = column_sums(&w, len);
        Self { len, q, bytes, w, sums }
    }

    fn chunk_sums(&self) -> [&[i32]; COLS] {
        let chunks = self.len.div_ceil(K_CHUNK);
        [&self.sums[..chunks], &self.sums[chunks..]]
    }
}

/// Whether this build's relaxed kernel gives the exact sums (the i16 kernel's, on the same
/// integers) on random and extreme tiles: engines whose relaxed SIMD was still experimental
/// (Node 20's V8 11.3, behind a flag) return wrong ones. False where the build has none.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn self_test() -> bool {
    AVAILABLE
        && [(K_STEP, 1u32), (384, 2), (312, 3), (1536, 4), (1544, 5)].iter().all(|&(len, seed)| {
            [false, true].iter().all(|&extreme| {
                let s = Sample::new(len, seed, extreme);
                let want = super::tile::portable(&s.q, len, &s.w, len, len);
                let got = best()(&s.bytes, 2 * len, &s.w, len, len, s.chunk_sums());
                want.iter().flatten().zip(got.iter().flatten()).all(|(a, b)| a.to_bits() == b.to_bits())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_kernel_gives_the_i16_kernels_sums() {
        for (len, seed) in [(K_STEP, 1u32), (24, 9), (384, 2), (312, 3), (1536, 4), (1544, 5)] {
            for extreme in [false, true] {
                let s = Sample::new(len, seed, extreme);
                let want = super::super::tile::portable(&s.q, len, &s.w, len, len);
                let bits = |t: [[f32; COLS]; ROWS]| t.map(|r| r.map(f32::to_bits));
                assert_eq!(bits(portable(&s.bytes, 2 * len, &s.w, len, len, s.chunk_sums())), bits(want), "len {len}");
                // on wasm32 with relaxed SIMD this is the SIMD kernel
                assert_eq!(bits(best()(&s.bytes, 2 * len, &s.w, len, len, s.chunk_sums())), bits(want), "len {len}");
                // a stride of 0 reads the first column twice
                let first = [s.chunk_sums()[0]; COLS];
                let twice = portable(&s.bytes, 2 * len, &s.w, 0, len, first);
                assert!(twice.iter().zip(&want).all(|(t, w)| t[0] == w[0] && t[1] == w[0]));
            }
        }
        assert_eq!(self_test(), AVAILABLE);
    }

    #[test]
    fn split_stores_each_value_as_two_seven_bit_halves() {
        let q: Vec<i16> = (0..24).map(|i| [-(LIMIT as i16), -1, 0, 1, LIMIT as i16, 100][i % 6]).collect();
        let mut out = vec![0u8; 48];
        split(&q, &mut out);
        assert!(out.iter().all(|&b| b < 128));
        // 16 values: hi then lo; then the last 8: hi then lo
        for (k, &x) in q.iter().enumerate() {
            let (start, n) = if k < 16 { (0, 16) } else { (16, 8) };
            let (h, l) = (out[2 * start + k - start], out[2 * start + n + k - start]);
            assert_eq!(128 * i32::from(h) + i32::from(l), i32::from(x) + OFFSET);
        }
    }
}
