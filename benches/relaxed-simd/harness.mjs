// The engine-independent half of the benchmark: runs in Node and in Chromium (imported by a page).
// Checks every kernel against a scalar reference, probes what the engine does with bytes that break
// the relaxed dot's 7-bit rule, then times the kernels, interleaved, `rounds` times.

const ROWS = 4,
  COLS = 2,
  K_CHUNK = 512;
export const KERNELS = ['a', 'b', 'c', 'c2'];

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runBench(bytes, { ks = [384, 1536], n = 384, rounds = 21, targetMs = 15, seed = 1 } = {}) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const x = instance.exports;
  const mem = () => x.memory.buffer;
  const view = (T, i, len) => new T(mem(), x.buf(i), len);
  const MAX_K = 1536,
    MAX_N = 384;
  const a16 = view(Int16Array, 0, ROWS * MAX_K),
    a7 = view(Uint8Array, 1, ROWS * MAX_K);
  const ahi = view(Uint8Array, 2, ROWS * MAX_K),
    alo = view(Uint8Array, 3, ROWS * MAX_K);
  const w = view(Int8Array, 4, MAX_N * MAX_K),
    colsum = view(Int32Array, 5, MAX_N);
  const out = view(Float32Array, 6, ROWS * COLS),
    probe = view(Int32Array, 7, 4);
  const rand = rng(seed);
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const fill = () => {
    for (let i = 0; i < a16.length; i++) a16[i] = int(-32767, 32767);
    for (let i = 0; i < a7.length; i++) a7[i] = int(0, 127);
    for (let i = 0; i < ahi.length; i++) {
      const u = int(0, 16383);
      ahi[i] = u >> 7;
      alo[i] = u & 127;
    }
    for (let i = 0; i < w.length; i++) w[i] = int(-128, 127);
  };
  const sums = (k) => {
    for (let c = 0; c < MAX_N && (c + 1) * k <= w.length; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += w[c * k + j];
      colsum[c] = s;
    }
  };
  // the activation each kernel sees at (row r, index j)
  const act = {
    a: (r, j, k) => a16[r * k + j],
    b: (r, j, k) => a7[r * k + j] - 64,
    c: (r, j, k) => ahi[r * k + j] * 128 + alo[r * k + j] - 8192,
  };
  act.c2 = act.c;
  // (a) sums exactly per 512-long chunk and adds the chunks in f32; (b, c) sum all of K exactly
  const reference = (kind, k, col) => {
    const chunk = kind === 'a' ? K_CHUNK : k;
    const want = [];
    for (let r = 0; r < ROWS; r++)
      for (let c = 0; c < COLS; c++) {
        let acc = 0;
        for (let k0 = 0; k0 < k; k0 += chunk) {
          let s = 0;
          for (let j = k0; j < Math.min(k, k0 + chunk); j++) s += act[kind](r, j, k) * w[(col + c) * k + j];
          acc = Math.fround(acc + Math.fround(s));
        }
        want.push(acc);
      }
    return want;
  };
  const check = (label) => {
    const failures = [];
    for (const k of ks) {
      sums(k);
      for (const col of [0, 2, 190, n - 2]) {
        for (const [i, kind] of KERNELS.entries()) {
          x.run_tile(i, k, col);
          const got = Array.from(out),
            want = reference(kind, k, col);
          if (got.some((v, j) => v !== want[j])) failures.push(`${label} ${kind} k=${k} col=${col}: got ${got} want ${want}`);
        }
      }
    }
    return failures;
  };
  fill();
  const failures = check('random');
  // extremes: every product at its largest, of one sign, then of the other
  for (const [wv, x16, x7, u14] of [
    [-128, -32767, 0, 0],
    [-128, 32767, 127, 16383],
    [127, -32767, 0, 0],
  ]) {
    w.fill(wv);
    a16.fill(x16);
    a7.fill(x7);
    ahi.fill(u14 >> 7);
    alo.fill(u14 & 127);
    failures.push(...check(`extreme(w=${wv})`));
  }
  fill();

  // Probes: first operand (signed i8) in a7[0..16], second in a7[16..32], accumulator in `probe`.
  const runProbe = (a, b, c) => {
    a7.set(new Uint8Array(new Int8Array(a).buffer), 0);
    a7.set(b, 16);
    probe.set(c);
    x.probe();
    return Array.from(probe);
  };
  // 1. a well-formed one (7-bit b, non-zero accumulator): every engine must give `sanityWant`
  const sanityWant = [14, 40, -48, 64556];
  const sanity = runProbe(
    [1, 1, 1, 1, 2, 2, 2, 2, -3, -3, -3, -3, 127, 127, 127, 127],
    [1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 127, 127, 127, 127],
    [10, 20, 30, 40],
  );
  // 2. b with its top bit set: implementation-defined
  const got = runProbe(
    [1, 1, 1, 1, 127, 127, 0, 0, 1, 0, 0, 0, -100, -100, 0, 0],
    [0x80, 0, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0, 0, 0, 0xc8, 0xc8, 0, 0],
    [0, 0, 0, 0],
  );
  const expect = {
    signed: [-128, -254, -1, 11200],
    'unsigned, i16 saturating': [128, 32767, 255, -32768],
    'unsigned, i16 wrapping': [128, -766, 255, 25536],
    'unsigned, no i16 step (as AVX-VNNI vpdpbusd)': [128, 64770, 255, -40000],
  };
  const probeSays = Object.entries(expect).find(([, v]) => v.every((e, i) => e === got[i]))?.[0] ?? `none of the spec's ways (signed: ${expect.signed})`;
  fill();

  // Timing: the same number of tiles per sample for every kernel, kernels interleaved (rotated).
  const results = [];
  for (const k of ks) {
    sums(k);
    const tiles = n / COLS;
    // warm-up: 200 ms per kernel, so that the engine's optimising tier has taken over
    for (let i = 0; i < KERNELS.length; i++) {
      const t0 = performance.now();
      while (performance.now() - t0 < 200) x.bench(i, k, n, 20);
    }
    let reps = 1;
    for (;;) {
      const t0 = performance.now();
      x.bench(0, k, n, reps);
      const dt = performance.now() - t0;
      if (dt > targetMs / 4) {
        reps = Math.max(1, Math.round((reps * targetMs) / dt));
        break;
      }
      reps *= 4;
    }
    const ns = Object.fromEntries(KERNELS.map((kind) => [kind, []]));
    for (let round = 0; round < rounds; round++) {
      for (let j = 0; j < KERNELS.length; j++) {
        const i = (round + j) % KERNELS.length;
        const t0 = performance.now();
        x.bench(i, k, n, reps);
        const t1 = performance.now();
        ns[KERNELS[i]].push(((t1 - t0) * 1e6) / (reps * tiles));
      }
    }
    for (const kind of KERNELS) {
      const v = ns[kind].slice().sort((p, q) => p - q);
      // the ratio to (a) of the same round (measured next to it), median over rounds
      const paired = ns[kind].map((t, i) => t / ns.a[i]).sort((p, q) => p - q);
      results.push({
        k,
        kind,
        reps,
        samples: ns[kind],
        min: v[0],
        median: v[v.length >> 1],
        macsPerNs: (ROWS * COLS * k) / v[0],
        pairedRatio: paired[paired.length >> 1],
      });
    }
  }
  return {
    failures,
    sanity: { got: sanity, want: sanityWant, ok: sanity.every((v, i) => v === sanityWant[i]) },
    probe: { got, says: probeSays },
    results,
    timerIsolated: globalThis.crossOriginIsolated ?? null,
  };
}
