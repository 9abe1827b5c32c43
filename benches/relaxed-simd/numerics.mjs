// The numeric cost of fewer activation bits: relative RMS error of `x · w` (w: int8 columns, the
// same in every case, so only the activations' quantisation differs) against f64, for simulated
// transformer activations. Per-row quantisation, as the product does it.
//
//   16-bit: symmetric, ±32767 (today's kernel a)      14-bit: symmetric, ±8191 (kernel c)
//   7-bit sym: ±63, stored + 64 (kernel b)            7-bit asym: 0..127 with a per-row zero point
//                                                     (kernel b, offset z·Σw per row and column)

function gaussian(seed) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const gelu = (v) => 0.5 * v * (1 + Math.tanh(0.7978845608 * (v + 0.044715 * v ** 3)));

const methods = {
  '16-bit': (x) => symmetric(x, 32767),
  '14-bit': (x) => symmetric(x, 8191),
  '7-bit sym': (x) => symmetric(x, 63),
  '7-bit asym': (x) => {
    const lo = Math.min(0, ...x),
      hi = Math.max(0, ...x);
    const scale = (hi - lo) / 127 || 1,
      z = Math.round(-lo / scale);
    return x.map((v) => (Math.min(127, Math.max(0, Math.round(v / scale) + z)) - z) * scale);
  },
};
function symmetric(x, limit) {
  const scale = Math.max(...x.map(Math.abs)) / limit || 1;
  return x.map((v) => Math.min(limit, Math.max(-limit, Math.round(v / scale))) * scale);
}

export function numerics({ rows = 32, cols = 128 } = {}) {
  const g = gaussian(7);
  const cases = [
    ['K=384, N(0,1)', 384, () => g(), []],
    // LayerNorm outputs feeding Q/K/V and the FFN: a couple of channels ~20σ in every row
    [
      'K=384, N(0,1), 2 outlier channels ~±20',
      384,
      () => g(),
      [
        [17, 20],
        [211, -24],
      ],
    ],
    // GELU outputs feeding the FFN's second layer, a few large channels
    [
      'K=1536, GELU(2·N(0,1)), 4 outliers ~15',
      1536,
      () => gelu(2 * g()),
      [
        [5, 15],
        [300, 12],
        [901, 16],
        [1400, 14],
      ],
    ],
  ];
  return cases.map(([name, k, draw, outliers]) => {
    // int8 weights, per-column symmetric (their scale is common to every method: left out)
    const w = Array.from({ length: cols }, () => {
      const c = Array.from({ length: k }, () => g());
      const s = Math.max(...c.map(Math.abs)) / 127;
      return c.map((v) => Math.round(v / s));
    });
    const err = Object.fromEntries(Object.keys(methods).map((m) => [m, 0]));
    let ref2 = 0;
    for (let r = 0; r < rows; r++) {
      const x = Array.from({ length: k }, draw);
      for (const [i, v] of outliers) x[i] = v * (1 + 0.2 * g());
      const q = Object.fromEntries(Object.entries(methods).map(([m, f]) => [m, f(x)]));
      for (const col of w) {
        let y = 0;
        for (let j = 0; j < k; j++) y += x[j] * col[j];
        ref2 += y * y;
        for (const m in q) {
          let yq = 0;
          for (let j = 0; j < k; j++) yq += q[m][j] * col[j];
          err[m] += (yq - y) ** 2;
        }
      }
    }
    return { case: name, cells: Object.entries(err).map(([m, e]) => [m, Math.sqrt(e / ref2)]) };
  });
}
