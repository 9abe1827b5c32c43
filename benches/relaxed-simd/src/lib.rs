//! Micro-benchmark of the int8 linear layer's tile (ROWS = 4 activation rows × COLS = 2 weight
//! columns, exact i32 sums along K), three ways:
//!
//! - `a`: today's kernel (a copy of `simd128` in `src/model/ops/int8_linear/tile.rs`): i16
//!   activations, i8 weights widened to i16, `i32x4.dot_i16x8_s`, i32 sums per 512-long chunk;
//! - `b`: 7-bit activations (stored as `x + 64`, in 0..=127) and i8 weights,
//!   `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 multiply-adds per instruction), corrected by
//!   `64 · Σ w` per column;
//! - `c`: 14-bit activations (stored as `x + 8192` in 0..=16383) split into two 7-bit halves, two
//!   relaxed dots per 16 values: `Σ w·x = 128 · Σ w·hi + Σ w·lo − 8192 · Σ w` (wrapping i32
//!   arithmetic; exact while the result fits i32: K ≤ 2047);
//! - `c2`: as `c`, with one accumulator per (row, column): `acc = dot(w, lo, acc + (dot(w, hi, 0) << 7))`.
//!
//! The relaxed dot's second operand must have its top bit clear: otherwise the product is
//! implementation-defined (signed or unsigned), and so is the 16-bit intermediate's overflow.
//! [`probe`] shows what the engine does with such bytes.
//!
//! No wasm-bindgen: the buffers are statics whose addresses JS reads ([`buf`]); JS fills them.
#![allow(clippy::missing_safety_doc)]
use core::arch::wasm32::*;
use core::hint::black_box;
use core::ptr::addr_of_mut;

const ROWS: usize = 4;
const COLS: usize = 2;
/// The product's chunk: `K_CHUNK · 32767 · 128 ≤ i32::MAX`.
const K_CHUNK: usize = 512;
/// Largest K and N the buffers hold.
const MAX_K: usize = 1536;
const MAX_N: usize = 384;

/// Activations, `ROWS` rows at a stride of K: i16 (kernel a), `x + 64` (b), 14-bit halves (c).
static mut A16: [i16; ROWS * MAX_K] = [0; ROWS * MAX_K];
static mut A7: [u8; ROWS * MAX_K] = [0; ROWS * MAX_K];
static mut AHI: [u8; ROWS * MAX_K] = [0; ROWS * MAX_K];
static mut ALO: [u8; ROWS * MAX_K] = [0; ROWS * MAX_K];
/// Weights: N columns of K i8, one after another (the product's packed layout).
static mut W: [i8; MAX_N * MAX_K] = [0; MAX_N * MAX_K];
/// `Σ_k w[n][k]` per column (the product would compute it when packing).
static mut COLSUM: [i32; MAX_N] = [0; MAX_N];
static mut OUT: [f32; ROWS * COLS] = [0.0; ROWS * COLS];
static mut PROBE: [i32; 4] = [0; 4];

/// The address of buffer `i`: 0 A16, 1 A7, 2 AHI, 3 ALO, 4 W, 5 COLSUM, 6 OUT, 7 PROBE.
#[no_mangle]
pub extern "C" fn buf(i: u32) -> usize {
    {
        match i {
            0 => addr_of_mut!(A16) as usize,
            1 => addr_of_mut!(A7) as usize,
            2 => addr_of_mut!(AHI) as usize,
            3 => addr_of_mut!(ALO) as usize,
            4 => addr_of_mut!(W) as usize,
            5 => addr_of_mut!(COLSUM) as usize,
            6 => addr_of_mut!(OUT) as usize,
            7 => addr_of_mut!(PROBE) as usize,
            _ => 0,
        }
    }
}

/// `[Σ p, Σ q, Σ r, Σ s]`, each over its four lanes.
#[inline(always)]
fn lane_sums(p: v128, q: v128, r: v128, s: v128) -> v128 {
    let pq = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(p, q), i32x4_shuffle::<2, 6, 3, 7>(p, q));
    let rs = i32x4_add(i32x4_shuffle::<0, 4, 1, 5>(r, s), i32x4_shuffle::<2, 6, 3, 7>(r, s));
    i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(pq, rs), i32x4_shuffle::<2, 3, 6, 7>(pq, rs))
}

#[inline(always)]
fn lanes(v: v128) -> [f32; 4] {
    [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
}

type Tile = [[f32; COLS]; ROWS];

/// (a) A copy of the product's `tile::simd128`.
#[inline(never)]
fn tile_a(a: &[i16], a_stride: usize, w: &[i8], w_stride: usize, len: usize) -> Tile {
    assert!(len % 8 == 0 && a.len() >= (ROWS - 1) * a_stride + len && w.len() >= (COLS - 1) * w_stride + len);
    let (a, w) = (a.as_ptr(), w.as_ptr());
    let (mut top, mut bottom) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut k = 0;
    while k < len {
        let end = (k + K_CHUNK).min(len);
        let mut s = [[i32x4_splat(0); COLS]; ROWS];
        while k < end {
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
    let ([t0, t1, t2, t3], [b0, b1, b2, b3]) = (lanes(top), lanes(bottom));
    [[t0, t1], [t2, t3], [b0, b1], [b2, b3]]
}

/// `-offset · [Σ w0, Σ w1, Σ w0, Σ w1]`
#[inline(always)]
fn correction(colsum: &[i32], offset: i32) -> v128 {
    let (c0, c1) = (colsum[0].wrapping_mul(-offset), colsum[1].wrapping_mul(-offset));
    i32x4(c0, c1, c0, c1)
}

/// (b) `a` holds `x + 64` (0..=127); the sums are exact in i32 for any K < 2³¹ / (128 · 127).
#[inline(never)]
fn tile_b(a: &[u8], a_stride: usize, w: &[i8], w_stride: usize, colsum: &[i32], len: usize) -> Tile {
    assert!(len % 16 == 0 && a.len() >= (ROWS - 1) * a_stride + len && w.len() >= (COLS - 1) * w_stride + len && colsum.len() >= COLS);
    let (a, w) = (a.as_ptr(), w.as_ptr());
    let mut s = [[i32x4_splat(0); COLS]; ROWS];
    let mut k = 0;
    while k < len {
        unsafe {
            let w0 = v128_load(w.add(k) as *const v128);
            let w1 = v128_load(w.add(w_stride + k) as *const v128);
            for (r, s) in s.iter_mut().enumerate() {
                let x = v128_load(a.add(r * a_stride + k) as *const v128);
                s[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, x, s[0]);
                s[1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, x, s[1]);
            }
        }
        k += 16;
    }
    let fix = correction(colsum, 64);
    let top = f32x4_convert_i32x4(i32x4_add(lane_sums(s[0][0], s[0][1], s[1][0], s[1][1]), fix));
    let bottom = f32x4_convert_i32x4(i32x4_add(lane_sums(s[2][0], s[2][1], s[3][0], s[3][1]), fix));
    let ([t0, t1, t2, t3], [b0, b1, b2, b3]) = (lanes(top), lanes(bottom));
    [[t0, t1], [t2, t3], [b0, b1], [b2, b3]]
}

/// (c) `hi`, `lo`: `x + 8192 = 128 · hi + lo`, both 0..=127; 16 accumulators.
#[inline(never)]
fn tile_c(hi: &[u8], lo: &[u8], a_stride: usize, w: &[i8], w_stride: usize, colsum: &[i32], len: usize) -> Tile {
    assert!(len % 16 == 0 && len < 2048 && hi.len() >= (ROWS - 1) * a_stride + len && lo.len() >= (ROWS - 1) * a_stride + len);
    assert!(w.len() >= (COLS - 1) * w_stride + len && colsum.len() >= COLS);
    let (hi, lo, w) = (hi.as_ptr(), lo.as_ptr(), w.as_ptr());
    let mut sh = [[i32x4_splat(0); COLS]; ROWS];
    let mut sl = [[i32x4_splat(0); COLS]; ROWS];
    let mut k = 0;
    while k < len {
        unsafe {
            let w0 = v128_load(w.add(k) as *const v128);
            let w1 = v128_load(w.add(w_stride + k) as *const v128);
            for r in 0..ROWS {
                let xh = v128_load(hi.add(r * a_stride + k) as *const v128);
                let xl = v128_load(lo.add(r * a_stride + k) as *const v128);
                sh[r][0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, xh, sh[r][0]);
                sh[r][1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, xh, sh[r][1]);
                sl[r][0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, xl, sl[r][0]);
                sl[r][1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, xl, sl[r][1]);
            }
        }
        k += 16;
    }
    let fix = correction(colsum, 8192);
    let sum = |h: v128, l: v128| i32x4_add(i32x4_shl(h, 7), l);
    let s: [[v128; COLS]; ROWS] = core::array::from_fn(|r| core::array::from_fn(|c| sum(sh[r][c], sl[r][c])));
    let top = f32x4_convert_i32x4(i32x4_add(lane_sums(s[0][0], s[0][1], s[1][0], s[1][1]), fix));
    let bottom = f32x4_convert_i32x4(i32x4_add(lane_sums(s[2][0], s[2][1], s[3][0], s[3][1]), fix));
    let ([t0, t1, t2, t3], [b0, b1, b2, b3]) = (lanes(top), lanes(bottom));
    [[t0, t1], [t2, t3], [b0, b1], [b2, b3]]
}

/// (c2) as (c), with 8 accumulators: `acc = dot(w, lo, acc + dot(w, hi, 0) << 7)`.
#[inline(never)]
fn tile_c2(hi: &[u8], lo: &[u8], a_stride: usize, w: &[i8], w_stride: usize, colsum: &[i32], len: usize) -> Tile {
    assert!(len % 16 == 0 && len < 2048 && hi.len() >= (ROWS - 1) * a_stride + len && lo.len() >= (ROWS - 1) * a_stride + len);
    assert!(w.len() >= (COLS - 1) * w_stride + len && colsum.len() >= COLS);
    let (hi, lo, w) = (hi.as_ptr(), lo.as_ptr(), w.as_ptr());
    let mut s = [[i32x4_splat(0); COLS]; ROWS];
    let zero = i32x4_splat(0);
    let mut k = 0;
    while k < len {
        unsafe {
            let w0 = v128_load(w.add(k) as *const v128);
            let w1 = v128_load(w.add(w_stride + k) as *const v128);
            for (r, s) in s.iter_mut().enumerate() {
                let xh = v128_load(hi.add(r * a_stride + k) as *const v128);
                let xl = v128_load(lo.add(r * a_stride + k) as *const v128);
                let h0 = i32x4_shl(i32x4_relaxed_dot_i8x16_i7x16_add(w0, xh, zero), 7);
                let h1 = i32x4_shl(i32x4_relaxed_dot_i8x16_i7x16_add(w1, xh, zero), 7);
                s[0] = i32x4_relaxed_dot_i8x16_i7x16_add(w0, xl, i32x4_add(s[0], h0));
                s[1] = i32x4_relaxed_dot_i8x16_i7x16_add(w1, xl, i32x4_add(s[1], h1));
            }
        }
        k += 16;
    }
    let fix = correction(colsum, 8192);
    let top = f32x4_convert_i32x4(i32x4_add(lane_sums(s[0][0], s[0][1], s[1][0], s[1][1]), fix));
    let bottom = f32x4_convert_i32x4(i32x4_add(lane_sums(s[2][0], s[2][1], s[3][0], s[3][1]), fix));
    let ([t0, t1, t2, t3], [b0, b1, b2, b3]) = (lanes(top), lanes(bottom));
    [[t0, t1], [t2, t3], [b0, b1], [b2, b3]]
}

/// Runs kernel `kind` (0 a, 1 b, 2 c, 3 c2) on columns `col`, `col + 1`: ROWS rows of length
/// `k` at stride `k`.
#[inline(always)]
fn tile(kind: u32, k: usize, col: usize) -> Tile {
    unsafe {
        let w = &(&*addr_of_mut!(W))[col * k..];
        let colsum = &(&*addr_of_mut!(COLSUM))[col..];
        match kind {
            0 => tile_a(&*addr_of_mut!(A16), k, w, k, k),
            1 => tile_b(&*addr_of_mut!(A7), k, w, k, colsum, k),
            2 => tile_c(&*addr_of_mut!(AHI), &*addr_of_mut!(ALO), k, w, k, colsum, k),
            _ => tile_c2(&*addr_of_mut!(AHI), &*addr_of_mut!(ALO), k, w, k, colsum, k),
        }
    }
}

/// One tile into `OUT` (row-major, ROWS × COLS).
#[no_mangle]
pub extern "C" fn run_tile(kind: u32, k: usize, col: usize) {
    let t = tile(kind, k, col);
    unsafe { *addr_of_mut!(OUT) = core::array::from_fn(|i| t[i / COLS][i % COLS]) };
}

/// `reps` passes over `n` columns (n/2 tiles each), as a layer `[K, n]` would make them for one
/// tile of rows. Returns a checksum so that nothing is optimised away.
#[no_mangle]
pub extern "C" fn bench(kind: u32, k: usize, n: usize, reps: u32) -> f32 {
    assert!(k <= MAX_K && n <= MAX_N && n % COLS == 0);
    let mut acc = 0f32;
    for _ in 0..reps {
        let mut col = 0;
        while col < n {
            let t = tile(black_box(kind), black_box(k), col);
            acc += t[0][0] + t[3][1];
            col += COLS;
        }
    }
    acc
}

/// `PROBE = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, PROBE)` for 16 bytes each at `A7[0..16]` (a,
/// read as i8) and `A7[16..32]` (b). With bytes of b whose top bit is set, the result says whether
/// this engine reads them signed or unsigned (and whether the i16 step saturates).
#[no_mangle]
pub extern "C" fn probe() {
    unsafe {
        let p = addr_of_mut!(A7) as *const u8;
        let (a, b) = (v128_load(p as *const v128), v128_load(p.add(16) as *const v128));
        let acc = v128_load(addr_of_mut!(PROBE) as *const v128);
        v128_store(addr_of_mut!(PROBE) as *mut v128, i32x4_relaxed_dot_i8x16_i7x16_add(black_box(a), black_box(b), black_box(acc)));
    }
}
