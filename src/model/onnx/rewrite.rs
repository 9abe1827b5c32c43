//! Rewrites of an ONNX graph before tract loads it, each exact but two (the same arithmetic, in an
//! order or form that tract optimises better, or can load at all):
//! - embedding tables kept int8: `Gather(Mul(Cast(int8), scale), ids)` becomes
//!   `Mul(Cast(Gather(int8, ids)), Gather(scale, ids))`, so only the gathered rows are dequantised;
//! - linear layers kept int8: `MatMul(x, Mul(Cast(int8), scale))` becomes an int8 operator
//!   ([`int8_linear`]; not exact: it quantises activations to 16 bits);
//! - any other weight-only int8 dequantisation (`Mul(Cast(int8), scale)`) folded into f32
//!   initializers;
//! - float16 graphs (what onnxruntime's `float16` converter writes, the Hub's `model_fp16.onnx`)
//!   computed in f32: every f16 weight, constant, cast and declared type becomes f32 (exact: f32
//!   holds every f16 value; the arithmetic is then f32's, as a model exported in f32 would do);
//! - onnxruntime's dynamically quantised linear layers (`quantize_dynamic`: the Hub's q8, int8
//!   and uint8 files) read as the weight-only int8 layers above (not exact: see
//!   [`dynamic_quantization_as_weight_only`]);
//! - `DequantizeLinear` of one scale and zero point (quantize_dynamic's embedding tables) written
//!   as the arithmetic it is, which tract can also write as NNEF;
//! - exact GELU reordered so that tract fuses its five nodes into one `GeluExact`;
//! - transformers' indexed padding mask (`mask[batch_idx, kv_idx]`) read as the slice it is;
//! - PyTorch's NaN guard after each attention softmax dropped (it never fires on minirank's
//!   batches, see [`drop_softmax_nan_guards`]).
use crate::model::ops::int8_linear;
use std::collections::{HashMap, HashSet};
use tract_onnx::pb;
use tract_onnx::prelude::f16;

/// All rewrites, in order; the int8 linear layers only when `int8_linear`.
pub(crate) fn prepare(graph: &mut pb::GraphProto, int8_linear: bool) {
    upcast_float16(graph);
    if dynamic_quantization_as_weight_only(graph, int8_linear) > 0 {
        remove_dead_nodes(graph);
    }
    dequantize_linear_as_arithmetic(graph);
    gather_before_dequantization(graph);
    if int8_linear {
        int8_linear_layers(graph);
    }
    fold_weight_dequantization(graph);
    reorder_gelu(graph);
    let sliced = slice_indexed_padding_mask(graph);
    if sliced + drop_softmax_nan_guards(graph) > 0 {
        remove_dead_nodes(graph);
    }
}

/// PyTorch's exported attention (SDPA) guards each softmax: `Where(IsNaN(p), 0, p)` with
/// `p = Softmax(scores + mask)`. A softmax row is NaN only when all its keys are masked with -inf
/// (or a score is already NaN); minirank masks only the padding keys of a batch, so every row keeps
/// its own tokens and the guard never changes a value. Reading `p` directly drops two passes over
/// every `[batch, heads, sequence, sequence]` tensor per layer (in wasm, a third of the time to
/// embed a long text, measured). Returns how many guards were dropped.
fn drop_softmax_nan_guards(graph: &mut pb::GraphProto) -> usize {
    let renames: HashMap<String, String> = {
        let softmax: HashSet<&str> = graph
            .node
            .iter()
            .filter(|n| n.op_type == "Softmax")
            .flat_map(|n| n.output.first())
            .map(String::as_str)
            .collect();
        let is_nan: HashMap<&str, &str> = graph
            .node
            .iter()
            .filter(|n| n.op_type == "IsNaN" && n.input.len() == 1 && softmax.contains(n.input[0].as_str()))
            .flat_map(|n| n.output.first().map(|o| (o.as_str(), n.input[0].as_str())))
            .collect();
        let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        graph
            .node
            .iter()
            .filter(|n| {
                n.op_type == "Where"
                    && n.input.len() == 3
                    && n.output.len() == 1
                    && !outputs.contains(n.output[0].as_str())
            })
            .filter(|n| is_nan.get(n.input[0].as_str()) == Some(&n.input[2].as_str()))
            .map(|n| (n.output[0].clone(), n.input[2].clone()))
            .collect()
    };
    for input in graph.node.iter_mut().flat_map(|n| n.input.iter_mut()) {
        if let Some(p) = renames.get(input) {
            *input = p.clone();
        }
    }
    renames.len()
}

/// A float16 graph computed in f32: f16 initializers and `Constant`/`ConstantOfShape` values
/// become f32 tensors of the same values, `Cast(to = FLOAT16)` becomes `Cast(to = FLOAT)` (a cast
/// from f16 back to f32 then casts f32 to itself), and every declared f16 type (inputs, outputs,
/// intermediate values) becomes f32. tract translates f16 graphs op by op and some of its
/// translations (a `Gemm` with f16 operands) fail; f32 is the precision every kernel of the
/// runtime is written for. Returns how many tensors and casts changed.
fn upcast_float16(graph: &mut pb::GraphProto) -> usize {
    let mut changed = 0;
    for t in graph.initializer.iter_mut() {
        changed += usize::from(upcast_tensor(t));
    }
    for n in graph.node.iter_mut() {
        for a in n.attribute.iter_mut() {
            if let Some(t) = a.t.as_mut() {
                changed += usize::from(upcast_tensor(t));
            }
            if n.op_type == "Cast" && a.name == "to" && a.i == ONNX_FLOAT16 as i64 {
                a.i = ONNX_FLOAT as i64;
                changed += 1;
            }
        }
    }
    let types = graph.input.iter_mut().chain(graph.output.iter_mut()).chain(graph.value_info.iter_mut());
    for v in types {
        if let Some(pb::type_proto::Value::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut()) {
            if t.elem_type == ONNX_FLOAT16 {
                t.elem_type = ONNX_FLOAT;
            }
        }
    }
    changed
}

/// An f16 tensor (its bits in `raw_data`, little-endian, or one per `int32_data` entry) made the
/// f32 tensor of the same values; whether it was f16.
fn upcast_tensor(t: &mut pb::TensorProto) -> bool {
    if t.data_type != ONNX_FLOAT16 {
        return false;
    }
    let bits: Vec<u16> = if t.raw_data.is_empty() {
        t.int32_data.iter().map(|&b| b as u16).collect()
    } else {
        t.raw_data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
    };
    t.raw_data = bits.into_iter().flat_map(|b| f16::from_bits(b).to_f32().to_le_bytes()).collect();
    t.int32_data.clear();
    t.data_type = ONNX_FLOAT;
    true
}

const ONNX_FLOAT16: i32 = 10;
const ONNX_FLOAT: i32 = 1;
const ONNX_UINT8: i32 = 2;
const ONNX_INT8: i32 = 3;
const ONNX_INT32: i32 = 6;
const ONNX_INT64: i32 = 7;

/// Where the graph's values come from and how often they are read.
struct Uses<'g> {
    graph: &'g pb::GraphProto,
    inits: HashMap<&'g str, &'g pb::TensorProto>,
    producer: HashMap<&'g str, usize>,
    readers: HashMap<&'g str, usize>,
}

impl<'g> Uses<'g> {
    fn of(graph: &'g pb::GraphProto) -> Self {
        let inits = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        let producer =
            graph.node.iter().enumerate().flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i))).collect();
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for input in graph.node.iter().flat_map(|n| n.input.iter()).chain(graph.output.iter().map(|o| &o.name)) {
            *readers.entry(input.as_str()).or_default() += 1;
        }
        Self { graph, inits, producer, readers }
    }

    /// `name` when it is `Mul(Cast(q, to=float), s)` (either operand order) of a 2-D int8
    /// initializer `q` and an f32 initializer `s`, and nothing but one node reads the product or
    /// the cast. With `uint8` too when `unsigned`.
    fn dequantized(&self, name: &str, unsigned: bool) -> Option<Dequantized<'g>> {
        let graph = self.graph;
        let attr = |n: &pb::NodeProto, name: &str| n.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let node = &graph.node[*self.producer.get(name)?];
        if node.op_type != "Mul" || node.input.len() != 2 || self.readers.get(name) != Some(&1) {
            return None;
        }
        let (cast_out, scale) =
            match (self.producer.get(node.input[0].as_str()), self.producer.get(node.input[1].as_str())) {
                (Some(_), None) => (&node.input[0], &node.input[1]),
                (None, Some(_)) => (&node.input[1], &node.input[0]),
                _ => return None,
            };
        let cast_node = &graph.node[self.producer[cast_out.as_str()]];
        if cast_node.op_type != "Cast"
            || attr(cast_node, "to") != Some(ONNX_FLOAT as i64)
            || self.readers.get(cast_out.as_str()) != Some(&1)
        {
            return None;
        }
        let q = self.inits.get(cast_node.input.first()?.as_str())?;
        let s = self.inits.get(scale.as_str())?;
        let int8 = q.data_type == ONNX_INT8 || (unsigned && q.data_type == ONNX_UINT8);
        let nodes = [node.output[0].clone(), cast_out.clone()];
        (int8 && q.dims.len() == 2 && s.data_type == ONNX_FLOAT).then_some(Dequantized { nodes, q, s })
    }
}

/// A weight stored int8: `Mul(Cast(q), s)`.
struct Dequantized<'g> {
    /// the outputs of the Mul and the Cast, which nothing reads once the weight is rewritten
    nodes: [String; 2],
    q: &'g pb::TensorProto,
    s: &'g pb::TensorProto,
}

/// The `to` attribute of a `Cast` to f32.
fn to_float() -> pb::AttributeProto {
    pb::AttributeProto {
        name: "to".into(),
        i: ONNX_FLOAT as i64,
        r#type: pb::attribute_proto::AttributeType::Int as i32,
        ..Default::default()
    }
}

/// A node of one output named after it.
fn node(op: &str, inputs: Vec<String>, output: String, attribute: Vec<pb::AttributeProto>) -> pb::NodeProto {
    pb::NodeProto {
        name: output.clone(),
        op_type: op.into(),
        input: inputs,
        output: vec![output],
        attribute,
        ..Default::default()
    }
}

/// Drop the nodes whose first output is in `dead` (named by output: splices move indices).
fn drop_nodes(graph: &mut pb::GraphProto, dead: &HashSet<String>) {
    graph.node.retain(|n| !n.output.first().is_some_and(|o| dead.contains(o)));
}

/// onnxruntime's `quantize_dynamic` writes each linear layer as
/// `Mul(Cast(MatMulInteger(xq, q, xz, qz)), Mul(xs, s))` with `(xq, xs, xz) =
/// DynamicQuantizeLinear(x)`: activations quantised to 8 bits per tensor (over the whole padded
/// batch) at run time, weights `(q - qz) · s` with `q` int8 or uint8 and a zero point and scale per
/// tensor or per column. tract runs that on a generic integer path. This reads the layer as the
/// weight-only form of the shipped models, `MatMul(x, Mul(Cast(w), ws))`, which the rewrites after
/// it take over (folded into f32 natively, minirank's int8 kernel in wasm: [`int8_linear_layers`]):
/// `w = q - qz` itself where it fits int8 (symmetric int8 weights). uint8 weights with a zero
/// point do not fit; natively they become the f32 initializer `(q - qz) · s`, and with
/// `int8_linear` the int8 operator on `q - 128` with the exact correction `Σx · (128 - qz) · s` as
/// its offsets ([`int8_linear`]). The weights stay the file's, exactly. Not exact: the
/// activations are then f32 (natively) or
/// 16-bit per row (the int8 kernel), which is closer to the model before it was quantised than
/// 8 bits per tensor, and no longer depends on the other rows of the batch. Returns how many layers.
fn dynamic_quantization_as_weight_only(graph: &mut pb::GraphProto, int8_linear: bool) -> usize {
    /// What a layer becomes, by the initializers it is given.
    enum Form {
        /// `MatMul(x, wf)`
        F32,
        /// `MatMul(x, Mul(Cast(w), ws))`
        Int8,
        /// the same plus `MatMul(x, ones) · cs`
        Int8Shifted,
    }
    struct Edit {
        at: usize,
        x: String,
        out: String,
        weights: Vec<pb::TensorProto>,
        form: Form,
    }
    let uses = Uses::of(graph);
    let producer = |name: &str| uses.producer.get(name).map(|&i| &graph.node[i]);
    let once = |name: &str| uses.readers.get(name) == Some(&1);
    let mut edits = Vec::new();
    for (at, mul) in graph.node.iter().enumerate() {
        if mul.op_type != "Mul" || mul.input.len() != 2 {
            continue;
        }
        let find = || -> Option<Edit> {
            let (cast, scales) = match (producer(&mul.input[0])?, producer(&mul.input[1])?) {
                (c, s) if c.op_type == "Cast" => (c, s),
                (s, c) if c.op_type == "Cast" => (c, s),
                _ => return None,
            };
            let matmul = producer(cast.input.first()?)?;
            if matmul.op_type != "MatMulInteger" || !once(&cast.output[0]) || !once(&matmul.output[0]) {
                return None;
            }
            let dql = producer(matmul.input.first()?)?;
            if dql.op_type != "DynamicQuantizeLinear" || dql.output.len() != 3 {
                return None;
            }
            if matmul.input.get(2) != Some(&dql.output[2]) || scales.op_type != "Mul" || !once(&scales.output[0]) {
                return None;
            }
            let s = match (scales.input.as_slice(), &dql.output[1]) {
                ([a, b], xs) if a == xs => uses.inits.get(b.as_str())?,
                ([a, b], xs) if b == xs => uses.inits.get(a.as_str())?,
                _ => return None,
            };
            let (dims, q) = int8_as_f32(uses.inits.get(matmul.input[1].as_str())?)?;
            let [k, n] = dims[..] else { return None };
            let (k, n) = (k as usize, n as usize);
            let zero = match matmul.input.get(3).filter(|z| !z.is_empty()) {
                Some(z) => int8_as_f32(uses.inits.get(z.as_str())?)?.1,
                None => vec![0.0],
            };
            let scale = f32_values(s)?;
            if !(zero.len() == 1 || zero.len() == n) || !(scale.len() == 1 || scale.len() == n) {
                return None;
            }
            // one value per column, from one per tensor or per column
            let columns = |v: &[f32]| -> Vec<f32> { (0..n).map(|c| v[if v.len() == 1 { 0 } else { c }]).collect() };
            let (zero, ws) = (columns(&zero), columns(&scale));
            let w: Vec<f32> = (0..k * n).map(|i| q[i] - zero[i % n]).collect();
            let name = |what: &str| format!("{}::minirank_{what}", mul.output[0]);
            let tensor = |what: &str, dims: Vec<i64>, data_type: i32, raw_data: Vec<u8>| pb::TensorProto {
                name: name(what),
                dims,
                data_type,
                raw_data,
                ..Default::default()
            };
            let f32_tensor = |what: &str, dims: Vec<i64>, v: &[f32]| {
                tensor(what, dims, ONNX_FLOAT, v.iter().flat_map(|x| x.to_le_bytes()).collect())
            };
            let int8_tensor = |v: &[f32]| {
                tensor("w", vec![k as i64, n as i64], ONNX_INT8, v.iter().map(|&x| x as i8 as u8).collect())
            };
            let x = dql.input.first()?.clone();
            let out = mul.output[0].clone();
            if w.iter().all(|v| v.abs() <= 127.0) {
                let weights = vec![int8_tensor(&w), f32_tensor("ws", vec![n as i64], &ws)];
                return Some(Edit { at, x, out, weights, form: Form::Int8 });
            }
            if !int8_linear {
                let f: Vec<f32> = w.iter().enumerate().map(|(i, v)| v * ws[i % n]).collect();
                let weights = vec![f32_tensor("wf", vec![k as i64, n as i64], &f)];
                return Some(Edit { at, x, out, weights, form: Form::F32 });
            }
            // uint8 weights with a zero point: q - qz = (q - 128) + (128 - qz), the first part
            // int8, the second a constant per column, whose product with x is Σx · (128 - qz) · s
            let shifted: Vec<f32> = (0..k * n).map(|i| q[i] - 128.0).collect();
            let cs: Vec<f32> = (0..n).map(|c| (128.0 - zero[c]) * ws[c]).collect();
            if shifted.iter().any(|v| v.abs() > 128.0) {
                return None;
            }
            let weights = vec![
                int8_tensor(&shifted),
                f32_tensor("ws", vec![n as i64], &ws),
                f32_tensor("cs", vec![n as i64], &cs),
            ];
            Some(Edit { at, x, out, weights, form: Form::Int8Shifted })
        };
        edits.extend(find());
    }
    let count = edits.len();
    for edit in edits.into_iter().rev() {
        let name = |what: &str| format!("{}::minirank_{what}", edit.out);
        let replacement = match edit.form {
            Form::F32 => vec![node("MatMul", vec![edit.x, name("wf")], edit.out, vec![])],
            Form::Int8 => vec![
                node("Cast", vec![name("w")], name("wc"), vec![to_float()]),
                node("Mul", vec![name("wc"), name("ws")], name("wd"), vec![]),
                node("MatMul", vec![edit.x, name("wd")], edit.out, vec![]),
            ],
            // one operator: as separate nodes, the correction's broadcast Mul and Add ran on
            // tract's generic loops in wasm (q8 files reranked 1.43× slower than int8 ones)
            Form::Int8Shifted => {
                vec![node(int8_linear::OP_TYPE, vec![edit.x, name("w"), name("ws"), name("cs")], edit.out, vec![])]
            }
        };
        graph.initializer.extend(edit.weights);
        graph.node.splice(edit.at..edit.at + 1, replacement);
    }
    count
}

/// `DequantizeLinear(x, s, z)` with one scale `s` and zero point `z` (initializers) becomes
/// `Mul(Sub(Cast(x), z), s)` (the `Sub` left out when `z` is 0): the same arithmetic, as ONNX
/// defines the operator, every int8/uint8 value and zero point exact in f32. onnxruntime's
/// `quantize_dynamic` gathers embedding rows from an int8/uint8 table and dequantises them so;
/// tract runs its own `DequantizeLinearF32` for it, which it cannot write as NNEF, so such a
/// file could not be converted (`minirank convert`). Returns how many.
fn dequantize_linear_as_arithmetic(graph: &mut pb::GraphProto) -> usize {
    let inits: HashMap<&str, &pb::TensorProto> = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    let scalar = |t: &&&pb::TensorProto| t.dims.iter().product::<i64>() == 1;
    let mut edits = Vec::new(); // (node index, x, s, z as f32)
    for (at, n) in graph.node.iter().enumerate() {
        if n.op_type != "DequantizeLinear" || !(2..=3).contains(&n.input.len()) || n.output.len() != 1 {
            continue;
        }
        let Some(s) = inits.get(n.input[1].as_str()).filter(scalar) else { continue };
        if f32_values(s).is_none() {
            continue;
        }
        let z = match n.input.get(2).filter(|z| !z.is_empty()) {
            None => 0.0,
            Some(z) => match inits.get(z.as_str()).filter(scalar).and_then(|t| int8_as_f32(t)) {
                Some((_, v)) => v[0],
                None => continue,
            },
        };
        edits.push((at, n.input[0].clone(), s.name.clone(), z));
    }
    for (at, x, s, z) in edits.iter().rev() {
        let out = graph.node[*at].output[0].clone();
        let name = |what: &str| format!("{out}::minirank_{what}");
        let mut nodes = vec![node("Cast", vec![x.clone()], name("xf"), vec![to_float()])];
        let shifted = if *z == 0.0 {
            name("xf")
        } else {
            graph.initializer.push(pb::TensorProto {
                name: name("zero"),
                data_type: ONNX_FLOAT,
                raw_data: z.to_le_bytes().to_vec(),
                ..Default::default()
            });
            nodes.push(node("Sub", vec![name("xf"), name("zero")], name("xs"), vec![]));
            name("xs")
        };
        nodes.push(node("Mul", vec![shifted, s.clone()], out, vec![]));
        graph.node.splice(*at..*at + 1, nodes);
    }
    edits.len()
}

/// An int8 embedding table would otherwise be folded into f32 like any weight: 47 MB for
/// MiniLM's 30,522 × 384 words, of which a forward pass reads a few hundred rows. Gather first
/// and dequantise what was gathered: `Gather(Mul(Cast(q), s), ids)` with `q` an int8 initializer
/// and `s` one scale per row (`[rows, 1]`) or per tensor becomes
/// `Mul(Cast(Gather(q, ids)), Gather(s, ids))` (or `Mul(Cast(Gather(q, ids)), s)`). Exact: each
/// gathered value is the same product of the same two numbers. Only when the dequantised table
/// feeds nothing but that Gather (a tied output projection would need the whole table).
/// Returns how many tables stay int8.
fn gather_before_dequantization(graph: &mut pb::GraphProto) -> usize {
    let uses = Uses::of(graph);
    let attr = |n: &pb::NodeProto, name: &str| n.attribute.iter().find(|a| a.name == name).map(|a| a.i);
    let mut edits = Vec::new(); // (gather index, q, one scale per row?, s, the table's nodes)
    for (gi, gather) in graph.node.iter().enumerate() {
        if gather.op_type != "Gather" || gather.input.len() != 2 || attr(gather, "axis").unwrap_or(0) != 0 {
            continue;
        }
        let Some(table) = uses.dequantized(&gather.input[0], true) else { continue };
        let per_row = match table.s.dims.as_slice() {
            [r, 1] if *r == table.q.dims[0] => true,
            [] | [1] | [1, 1] => false,
            _ => continue,
        };
        edits.push((gi, table.q.name.clone(), per_row, table.s.name.clone(), table.nodes));
    }
    let mut dead = HashSet::new();
    for (gi, q, per_row, s, table_nodes) in edits.iter().rev() {
        let gather = &graph.node[*gi];
        let (ids, out) = (gather.input[1].clone(), gather.output[0].clone());
        let name = |what: &str| format!("{out}::minirank_{what}");
        let mut replacement = vec![
            node("Gather", vec![q.clone(), ids.clone()], name("rows_q"), vec![]),
            node("Cast", vec![name("rows_q")], name("rows_f"), vec![to_float()]),
        ];
        let scale = if *per_row {
            replacement.push(node("Gather", vec![s.clone(), ids], name("rows_s"), vec![]));
            name("rows_s")
        } else {
            s.clone()
        };
        replacement.push(node("Mul", vec![name("rows_f"), scale], out, vec![]));
        dead.extend(table_nodes.iter().cloned());
        graph.node.splice(*gi..*gi + 1, replacement);
    }
    drop_nodes(graph, &dead);
    edits.len()
}

/// Linear layers keep their int8 weights: `MatMul(x, Mul(Cast(q), s))` with `q` an int8 `[K, N]`
/// initializer and `s` one scale per output column (`[1, N]`, `[N]`) or per tensor becomes
/// [`int8_linear::OP_TYPE`]`(x, q, s)`, which never makes the f32 weights (10.6 MB instead of
/// 42.5 MB for MiniLM's). Not exact: the operator quantises each row of `x` to 16-bit integers
/// (see [`int8_linear`]). Returns how many layers stay int8.
fn int8_linear_layers(graph: &mut pb::GraphProto) -> usize {
    let uses = Uses::of(graph);
    let mut edits = Vec::new(); // (matmul index, q, s, the Mul's and Cast's outputs)
    for (ix, matmul) in graph.node.iter().enumerate() {
        if matmul.op_type != "MatMul" || matmul.input.len() != 2 {
            continue;
        }
        let Some(w) = uses.dequantized(&matmul.input[1], false) else { continue };
        let per_column_or_tensor = match w.s.dims.as_slice() {
            [] | [1] | [1, 1] => true,
            [c] | [1, c] => *c == w.q.dims[1],
            _ => false,
        };
        if per_column_or_tensor {
            edits.push((ix, w.q.name.clone(), w.s.name.clone(), w.nodes));
        }
    }
    let mut dead = HashSet::new();
    for (ix, q, s, weight_nodes) in &edits {
        let matmul = &mut graph.node[*ix];
        matmul.op_type = int8_linear::OP_TYPE.into();
        matmul.input = vec![matmul.input[0].clone(), q.clone(), s.clone()];
        dead.extend(weight_nodes.iter().cloned());
    }
    drop_nodes(graph, &dead);
    edits.len()
}

/// Weight-only int8 models store weights as `Mul(Cast(int8 initializer), scale initializer)`.
/// tract keeps that subgraph (folding it would grow the weights 4×) and so dequantizes every
/// weight on every run, a large part of a MiniLM forward pass. Fold it once here into f32
/// initializers: the graph then runs plain f32 MatMuls on pre-packed weights, with results
/// identical to doing the same arithmetic at run time.
fn fold_weight_dequantization(graph: &mut pb::GraphProto) {
    let mut inits: HashMap<String, pb::TensorProto> =
        graph.initializer.drain(..).map(|t| (t.name.clone(), t)).collect();
    let mut folded: HashSet<usize> = HashSet::new();
    for (ix, node) in graph.node.iter().enumerate() {
        let out = match node.output.first() {
            Some(o) => o.clone(),
            None => continue,
        };
        let value = match node.op_type.as_str() {
            "Cast" => {
                let to = node.attribute.iter().find(|a| a.name == "to").map(|a| a.i as i32);
                match (to, node.input.first().and_then(|i| inits.get(i))) {
                    (Some(ONNX_FLOAT), Some(t)) => int8_as_f32(t),
                    _ => None,
                }
            }
            "Mul" if node.input.len() == 2 => match (inits.get(&node.input[0]), inits.get(&node.input[1])) {
                (Some(a), Some(b)) => mul_broadcast(a, b),
                _ => None,
            },
            _ => None,
        };
        if let Some((dims, data)) = value {
            inits.insert(
                out.clone(),
                pb::TensorProto { name: out, dims, data_type: ONNX_FLOAT, float_data: data, ..Default::default() },
            );
            folded.insert(ix);
        }
    }
    if folded.is_empty() {
        graph.initializer = inits.into_values().collect();
        return;
    }
    let mut ix = 0;
    graph.node.retain(|_| {
        ix += 1;
        !folded.contains(&(ix - 1))
    });
    // keep only initializers something still reads (the int8 originals go)
    let used: HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .chain(graph.output.iter().map(|o| o.name.as_str()))
        .collect();
    let mut kept: Vec<pb::TensorProto> = inits.into_values().filter(|t| used.contains(t.name.as_str())).collect();
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    graph.initializer = kept;
}

/// The values of an int8/uint8 initializer as f32 (raw_data or int32_data).
fn int8_as_f32(t: &pb::TensorProto) -> Option<(Vec<i64>, Vec<f32>)> {
    let n: i64 = t.dims.iter().product();
    let data: Vec<f32> = match t.data_type {
        ONNX_INT8 if !t.raw_data.is_empty() => t.raw_data.iter().map(|&b| b as i8 as f32).collect(),
        ONNX_UINT8 if !t.raw_data.is_empty() => t.raw_data.iter().map(|&b| b as f32).collect(),
        ONNX_INT8 | ONNX_UINT8 => t.int32_data.iter().map(|&x| x as f32).collect(),
        _ => return None,
    };
    (data.len() as i64 == n).then(|| (t.dims.clone(), data))
}

/// The values of an f32 initializer.
fn f32_values(t: &pb::TensorProto) -> Option<Vec<f32>> {
    if t.data_type != ONNX_FLOAT {
        return None;
    }
    let data: Vec<f32> = if !t.raw_data.is_empty() {
        t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    } else {
        t.float_data.clone()
    };
    (data.len() as i64 == t.dims.iter().product::<i64>()).then_some(data)
}

/// Elementwise product of two f32 initializers of rank <= 2 with numpy broadcasting.
fn mul_broadcast(a: &pb::TensorProto, b: &pb::TensorProto) -> Option<(Vec<i64>, Vec<f32>)> {
    let (x, y) = (f32_values(a)?, f32_values(b)?);
    if a.dims.len() > 2 || b.dims.len() > 2 {
        return None;
    }
    let shape2 = |d: &[i64]| -> [usize; 2] {
        match d {
            [] => [1, 1],
            [c] => [1, *c as usize],
            [r, c] => [*r as usize, *c as usize],
            _ => [0, 0],
        }
    };
    let (sa, sb) = (shape2(&a.dims), shape2(&b.dims));
    let out = [sa[0].max(sb[0]), sa[1].max(sb[1])];
    for s in [sa, sb] {
        if (s[0] != out[0] && s[0] != 1) || (s[1] != out[1] && s[1] != 1) {
            return None;
        }
    }
    let at = |v: &[f32], s: [usize; 2], r: usize, c: usize| {
        v[(if s[0] == 1 { 0 } else { r }) * s[1] + if s[1] == 1 { 0 } else { c }]
    };
    let mut data = Vec::with_capacity(out[0] * out[1]);
    for r in 0..out[0] {
        for c in 0..out[1] {
            data.push(at(&x, sa, r, c) * at(&y, sb, r, c));
        }
    }
    let dims = if a.dims.len().max(b.dims.len()) == 2 {
        vec![out[0] as i64, out[1] as i64]
    } else if a.dims.len().max(b.dims.len()) == 1 {
        vec![out[1] as i64]
    } else {
        vec![]
    };
    Some((dims, data))
}

/// A scalar f32 constant: a one-element initializer or `Constant` node.
fn scalar(graph: &pb::GraphProto, name: &str) -> Option<f32> {
    // decode only one-element tensors (a weight passed here would otherwise be copied whole)
    let one =
        |t: &pb::TensorProto| (t.dims.iter().product::<i64>() == 1).then(|| f32_values(t)).flatten().map(|v| v[0]);
    if let Some(t) = graph.initializer.iter().find(|t| t.name == name) {
        return one(t);
    }
    let node = graph.node.iter().find(|n| n.op_type == "Constant" && n.output.first().is_some_and(|o| o == name))?;
    node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref()).and_then(one)
}

/// torch exports exact GELU as `x * (0.5 * (1 + erf(x / √2)))`; tract 0.23 fuses the chain
/// into one `GeluExact` (a single pass instead of five over the `[batch, seq, 1536]`
/// activations, ~10% of a MiniLM forward pass) only when the half multiplies `x` first:
/// `(x * 0.5) * (1 + erf(x / √2))`. Reorder to that. Exact: multiplying by 0.5 only changes
/// the exponent, so both orders round the same. Returns how many chains were reordered.
fn reorder_gelu(graph: &mut pb::GraphProto) -> usize {
    let index_of: HashMap<String, usize> =
        graph.node.iter().enumerate().flat_map(|(i, n)| n.output.iter().map(move |o| (o.clone(), i))).collect();
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in graph.node.iter().enumerate() {
        for input in &n.input {
            readers.entry(input.as_str()).or_default().push(i);
        }
    }
    let graph_outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    // the only node reading `name`, if it has that op type
    let sole_reader = |name: &str, op: &str| -> Option<usize> {
        match readers.get(name).map(Vec::as_slice) {
            Some([i]) if graph.node[*i].op_type == op && !graph_outputs.contains(name) => Some(*i),
            _ => None,
        }
    };
    // the other input of a binary node one of whose inputs is `known`
    let other = |n: &pb::NodeProto, known: &str| -> Option<String> {
        match n.input.as_slice() {
            [a, b] if a == known => Some(b.clone()),
            [a, b] if b == known => Some(a.clone()),
            _ => None,
        }
    };
    let is_const =
        |name: &str, value: f32| scalar(graph, name).is_some_and(|v| (v - value).abs() <= 1e-6 * value.abs());
    let mut edits = Vec::new();
    for erf in graph.node.iter().filter(|n| n.op_type == "Erf" && n.input.len() == 1 && n.output.len() == 1) {
        let Some(&scale) = index_of.get(&erf.input[0]) else { continue };
        let scale = &graph.node[scale];
        let x = match (scale.op_type.as_str(), scale.input.as_slice()) {
            ("Div", [x, c]) if is_const(c, std::f32::consts::SQRT_2) => x.clone(),
            ("Mul", [a, b]) if is_const(b, std::f32::consts::FRAC_1_SQRT_2) => a.clone(),
            ("Mul", [a, b]) if is_const(a, std::f32::consts::FRAC_1_SQRT_2) => b.clone(),
            _ => continue,
        };
        let Some(add) = sole_reader(&erf.output[0], "Add") else { continue };
        if !other(&graph.node[add], &erf.output[0]).is_some_and(|c| is_const(&c, 1.0)) {
            continue;
        }
        let one_plus_erf = graph.node[add].output[0].clone();
        let Some(half) = sole_reader(&one_plus_erf, "Mul") else { continue };
        let Some(half_const) = other(&graph.node[half], &one_plus_erf).filter(|c| is_const(c, 0.5)) else { continue };
        let Some(out) = sole_reader(&graph.node[half].output[0], "Mul") else { continue };
        if other(&graph.node[out], &graph.node[half].output[0]).as_deref() != Some(x.as_str()) {
            continue;
        }
        edits.push((half, out, x, half_const, one_plus_erf));
    }
    for (half, out, x, half_const, one_plus_erf) in &edits {
        graph.node[*half].input = vec![x.clone(), half_const.clone()];
        let half_x = graph.node[*half].output[0].clone();
        graph.node[*out].input = vec![half_x, one_plus_erf.clone()];
    }
    edits.len()
}

/// Since 4.5x, transformers builds an encoder's 4-D attention mask by indexing the 2-D padding
/// mask, `mask[batch_idx, kv_idx]` with `batch_idx = arange(N)[:, None, None, None]` and
/// `kv_idx = arange(S)[None, None, None, :]`, which the TorchScript exporter (and Optimum) trace as
/// `Gather(Flatten(mask, axis=2), batch_idx * S + kv_idx)` with `S = Shape(mask)[1]`. tract 0.23
/// loads neither half: its `Flatten` cannot multiply two symbolic dimensions (`batch·sequence`),
/// and its declutter of `Mul` fails on the symbolic `S`. The gathered values are `mask[b, k]` for
/// `b < N`, `k < S`, so the `Gather` becomes `Unsqueeze(Slice(mask, rows 0..N))` with the same shape
/// `[N, 1, .., 1, S, 1]` (an `N` beyond the batch makes the original fail out of range instead).
/// The index arithmetic is left unread; [`remove_dead_nodes`] drops it. Returns how many were rewritten.
fn slice_indexed_padding_mask(graph: &mut pb::GraphProto) -> usize {
    let mut edits = Vec::new();
    for (ix, gather) in graph.node.iter().enumerate() {
        if let Some(edit) = indexed_padding_mask(graph, gather) {
            edits.push((ix, edit));
        }
    }
    // back to front, so that the indices of the nodes still to replace do not move
    for (ix, (mask, rows, rank)) in edits.iter().rev() {
        let out = graph.node[*ix].output[0].clone();
        let name = |what: &str| format!("{out}::minirank_{what}");
        let int64s = |name: String, values: Vec<i64>| pb::TensorProto {
            name,
            dims: vec![values.len() as i64],
            data_type: ONNX_INT64,
            int64_data: values,
            ..Default::default()
        };
        // axes 1..rank-1 and rank: [N, S] -> [N, 1, .., 1, S, 1]
        let axes: Vec<i64> = (1..*rank as i64 - 1).chain([*rank as i64]).collect();
        graph.initializer.extend([
            int64s(name("zero"), vec![0]),
            int64s(name("one"), vec![1]),
            int64s(name("axes"), axes),
        ]);
        let node = |op: &str, inputs: Vec<String>, output: String| pb::NodeProto {
            name: output.clone(),
            op_type: op.into(),
            input: inputs,
            output: vec![output],
            ..Default::default()
        };
        let replacement = [
            node("Reshape", vec![rows.clone(), name("one")], name("rows")),
            node("Slice", vec![mask.clone(), name("zero"), name("rows"), name("zero")], name("slice")),
            node("Unsqueeze", vec![name("slice"), name("axes")], out),
        ];
        graph.node.splice(*ix..*ix + 1, replacement);
    }
    edits.len()
}

/// For a `Gather` of transformers' indexed padding mask: (the 2-D mask, the batch range's end,
/// the rank of the index).
fn indexed_padding_mask(graph: &pb::GraphProto, gather: &pb::NodeProto) -> Option<(String, String, usize)> {
    let producer = |name: &str| graph.node.iter().find(|n| n.output.iter().any(|o| o == name));
    let attr = |n: &pb::NodeProto, name: &str| n.attribute.iter().find(|a| a.name == name).map(|a| a.i);
    if gather.op_type != "Gather" || gather.input.len() != 2 || attr(gather, "axis").unwrap_or(0) != 0 {
        return None;
    }
    let flatten = producer(&gather.input[0]).filter(|n| n.op_type == "Flatten" && n.input.len() == 1)?;
    let mask = flatten.input[0].as_str();
    if declared_rank(graph, mask)? != 2 || attr(flatten, "axis").unwrap_or(1) != 2 {
        return None;
    }
    let add = producer(&gather.input[1]).filter(|n| n.op_type == "Add" && n.input.len() == 2)?;
    for (product, kv) in [(&add.input[0], &add.input[1]), (&add.input[1], &add.input[0])] {
        let Some(mul) = producer(product).filter(|n| n.op_type == "Mul" && n.input.len() == 2) else { continue };
        for (batch, stride) in [(&mul.input[0], &mul.input[1]), (&mul.input[1], &mul.input[0])] {
            if !is_dim(graph, stride, mask, 1) {
                continue;
            }
            let (Some((rows, 0, rank)), Some((kv_end, kv_axis, kv_rank))) =
                (arange_axis(graph, batch), arange_axis(graph, kv))
            else {
                continue;
            };
            if rank >= 2 && kv_rank == rank && kv_axis == rank - 1 && is_dim(graph, &kv_end, mask, 1) {
                return Some((mask.to_owned(), rows, rank));
            }
        }
    }
    None
}

/// Rank of `name` when it is a graph input with a declared shape, or `Cast`s of one.
fn declared_rank(graph: &pb::GraphProto, name: &str) -> Option<usize> {
    let root = cast_root(graph, name);
    let input = graph.input.iter().find(|i| i.name == root)?;
    let pb::type_proto::Value::TensorType(t) = input.r#type.as_ref()?.value.as_ref()?;
    Some(t.shape.as_ref()?.dim.len())
}

/// `name` with the `Cast`s that produce it followed back.
fn cast_root<'a>(graph: &'a pb::GraphProto, mut name: &'a str) -> &'a str {
    for _ in 0..16 {
        match graph.node.iter().find(|n| n.output.iter().any(|o| o == name)) {
            Some(n) if n.op_type == "Cast" && n.input.len() == 1 => name = &n.input[0],
            _ => break,
        }
    }
    name
}

/// Whether `name` is `Shape(t)[axis]` (through `Cast`s; scalar or one-element index) for a `t`
/// that is `of` up to `Cast`s.
fn is_dim(graph: &pb::GraphProto, name: &str, of: &str, axis: i64) -> bool {
    let producer = |name: &str| graph.node.iter().find(|n| n.output.iter().any(|o| o == name));
    let Some(gather) = producer(cast_root(graph, name)).filter(|n| n.op_type == "Gather" && n.input.len() == 2) else {
        return false;
    };
    let index_ok = matches!(ints(graph, &gather.input[1]).as_deref(), Some([i]) if *i == axis);
    let axis_ok = gather.attribute.iter().find(|a| a.name == "axis").is_none_or(|a| a.i == 0);
    let shape =
        producer(&gather.input[0]).filter(|n| n.op_type == "Shape" && n.input.len() == 1 && n.attribute.is_empty());
    index_ok && axis_ok && shape.is_some_and(|s| cast_root(graph, &s.input[0]) == cast_root(graph, of))
}

/// For `name` = `Range(0, end, 1)` raised by `Unsqueeze`s (axes as an input, opset 13+) and
/// `Cast`s: (`end`, the axis the range runs along, the rank).
fn arange_axis(graph: &pb::GraphProto, name: &str) -> Option<(String, usize, usize)> {
    let mut chain = Vec::new();
    let mut name = name;
    let range = loop {
        let node = graph.node.iter().find(|n| n.output.iter().any(|o| o == name))?;
        match node.op_type.as_str() {
            "Range" if node.input.len() == 3 => break node,
            "Cast" | "Unsqueeze" if chain.len() < 16 => {
                chain.push(node);
                name = node.input.first()?;
            }
            _ => return None,
        }
    };
    if ints(graph, &range.input[0])? != [0] || ints(graph, &range.input[2])? != [1] {
        return None;
    }
    let (mut axis, mut rank) = (0usize, 1usize);
    for node in chain.iter().rev().filter(|n| n.op_type == "Unsqueeze") {
        let added = ints(graph, node.input.get(1)?)?;
        let new_rank = rank + added.len();
        let mut added: Vec<usize> = added
            .iter()
            .map(|&a| usize::try_from(if a < 0 { a + new_rank as i64 } else { a }).ok())
            .collect::<Option<_>>()?;
        added.sort_unstable();
        for a in added {
            if a <= axis {
                axis += 1;
            }
        }
        rank = new_rank;
    }
    Some((range.input[1].clone(), axis, rank))
}

/// An integer constant (initializer or `Constant` node, int64 or int32), flattened.
fn ints(graph: &pb::GraphProto, name: &str) -> Option<Vec<i64>> {
    let decode = |t: &pb::TensorProto| -> Option<Vec<i64>> {
        match t.data_type {
            ONNX_INT64 if !t.raw_data.is_empty() => {
                t.raw_data.chunks_exact(8).map(|c| c.try_into().ok().map(i64::from_le_bytes)).collect()
            }
            ONNX_INT64 => Some(t.int64_data.clone()),
            ONNX_INT32 if !t.raw_data.is_empty() => t
                .raw_data
                .chunks_exact(4)
                .map(|c| c.try_into().ok().map(|b| i64::from(i32::from_le_bytes(b))))
                .collect(),
            ONNX_INT32 => Some(t.int32_data.iter().map(|&x| i64::from(x)).collect()),
            _ => None,
        }
    };
    if let Some(t) = graph.initializer.iter().find(|t| t.name == name) {
        return decode(t);
    }
    let node = graph.node.iter().find(|n| n.op_type == "Constant" && n.output.first().is_some_and(|o| o == name))?;
    node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref()).and_then(decode)
}

/// Drop the nodes nothing reads (tract analyses every node, used or not).
fn remove_dead_nodes(graph: &mut pb::GraphProto) {
    loop {
        let used: HashSet<&str> = graph
            .node
            .iter()
            .flat_map(|n| n.input.iter())
            .chain(graph.output.iter().map(|o| &o.name))
            .map(String::as_str)
            .collect();
        let dead: HashSet<usize> = graph
            .node
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.output.iter().any(|o| used.contains(o.as_str())))
            .map(|(i, _)| i)
            .collect();
        if dead.is_empty() {
            return;
        }
        let mut ix = 0;
        graph.node.retain(|_| {
            ix += 1;
            !dead.contains(&(ix - 1))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, ins: &[&str], out: &str) -> pb::NodeProto {
        let to_float = pb::AttributeProto { name: "to".into(), i: ONNX_FLOAT as i64, ..Default::default() };
        pb::NodeProto {
            op_type: op.into(),
            input: ins.iter().map(|s| s.to_string()).collect(),
            output: vec![out.into()],
            attribute: if op == "Cast" { vec![to_float] } else { vec![] },
            ..Default::default()
        }
    }

    fn f32_scalar(name: &str, v: f32) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: vec![],
            data_type: ONNX_FLOAT,
            float_data: vec![v],
            ..Default::default()
        }
    }

    #[test]
    fn dynamically_quantised_layers_become_weight_only_layers() {
        // x -> DynamicQuantizeLinear -> MatMulInteger(q, zero point) -> Cast -> Mul(Mul(xs, s)), as
        // quantize_dynamic writes it; q is 2 x 2, one zero point and scale per tensor
        let graph = |q: pb::TensorProto, zero: pb::TensorProto| pb::GraphProto {
            node: vec![
                pb::NodeProto {
                    op_type: "DynamicQuantizeLinear".into(),
                    input: vec!["x".into()],
                    output: vec!["xq".into(), "xs".into(), "xz".into()],
                    ..Default::default()
                },
                node("MatMulInteger", &["xq", "q", "xz", "qz"], "yi"),
                node("Cast", &["yi"], "yf"),
                node("Mul", &["xs", "s"], "ys"),
                node("Mul", &["yf", "ys"], "y"),
            ],
            initializer: vec![q, zero, f32_scalar("s", 0.5)],
            output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
            ..Default::default()
        };
        let bytes = |name: &str, data_type: i32, dims: Vec<i64>, raw: Vec<u8>| pb::TensorProto {
            name: name.into(),
            dims,
            data_type,
            raw_data: raw,
            ..Default::default()
        };
        let weights = |g: &pb::GraphProto, out: &str| {
            let mut g = g.clone();
            fold_weight_dequantization(&mut g);
            f32_values(g.initializer.iter().find(|t| t.name == out).unwrap()).unwrap()
        };
        // symmetric int8 weights: the same integers, the same scale
        let q = bytes("q", ONNX_INT8, vec![2, 2], [1i8, -2, 127, -127].iter().map(|&v| v as u8).collect());
        let mut g = graph(q, bytes("qz", ONNX_INT8, vec![], vec![0]));
        assert_eq!(dynamic_quantization_as_weight_only(&mut g, true), 1);
        remove_dead_nodes(&mut g);
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Cast", "Mul", "MatMul"]);
        assert_eq!(g.node[2].input[0], "x");
        assert_eq!(g.node[2].output[0], "y");
        assert_eq!(weights(&g, "y::minirank_wd"), [0.5, -1.0, 63.5, -63.5]);
        // uint8 weights with a zero point of 10: q - 10 spans -10..=245, beyond int8: quantised
        // again per column in wasm, kept f32 natively
        let q = bytes("q", ONNX_UINT8, vec![2, 2], vec![0, 10, 255, 20]);
        let exact = [-5.0, 0.0, 122.5, 5.0];
        let mut native = graph(q.clone(), bytes("qz", ONNX_UINT8, vec![], vec![10]));
        assert_eq!(dynamic_quantization_as_weight_only(&mut native, false), 1);
        remove_dead_nodes(&mut native);
        assert_eq!(native.node.iter().map(|n| n.op_type.as_str()).collect::<Vec<_>>(), ["MatMul"]);
        assert_eq!(weights(&native, "y::minirank_wf"), exact);
        let mut wasm = graph(q, bytes("qz", ONNX_UINT8, vec![], vec![10]));
        assert_eq!(dynamic_quantization_as_weight_only(&mut wasm, true), 1);
        remove_dead_nodes(&mut wasm);
        let ops: Vec<&str> = wasm.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, [int8_linear::OP_TYPE]);
        assert_eq!(wasm.node[0].input, ["x", "y::minirank_w", "y::minirank_ws", "y::minirank_cs"]);
        // (q - 128) · s plus the column constant (128 - 10) · s: the file's weights exactly
        let init = |name: &str| wasm.initializer.iter().find(|t| t.name == name).unwrap();
        let (shifted, ws) =
            (int8_as_f32(init("y::minirank_w")).unwrap().1, f32_values(init("y::minirank_ws")).unwrap());
        let cs = f32_values(init("y::minirank_cs")).unwrap();
        let rebuilt: Vec<f32> = shifted.iter().enumerate().map(|(i, v)| v * ws[i % 2] + cs[i % 2]).collect();
        assert_eq!(rebuilt, exact);
        // a MatMulInteger whose activations do not come from DynamicQuantizeLinear is left alone
        let q = bytes("q", ONNX_INT8, vec![2, 2], vec![1, 2, 3, 4]);
        let mut other = graph(q, bytes("qz", ONNX_INT8, vec![], vec![0]));
        other.node[0].op_type = "QuantizeLinear".into();
        assert_eq!(dynamic_quantization_as_weight_only(&mut other, true), 0);
    }

    #[test]
    fn dequantize_linear_of_one_scale_and_zero_point_becomes_its_arithmetic() {
        let init = |name: &str, data_type: i32, raw: Vec<u8>| pb::TensorProto {
            name: name.into(),
            data_type,
            raw_data: raw,
            ..Default::default()
        };
        let mut g = pb::GraphProto {
            node: vec![node("DequantizeLinear", &["x", "s", "z"], "y"), node("DequantizeLinear", &["x", "s"], "y2")],
            initializer: vec![f32_scalar("s", 0.5), init("z", ONNX_UINT8, vec![10])],
            ..Default::default()
        };
        assert_eq!(dequantize_linear_as_arithmetic(&mut g), 2);
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Cast", "Sub", "Mul", "Cast", "Mul"]);
        assert_eq!(g.node[2].output[0], "y");
        assert_eq!(g.node[4].output[0], "y2");
        let zero = g.initializer.iter().find(|t| t.name == "y::minirank_zero").unwrap();
        assert_eq!(f32_values(zero).unwrap(), [10.0]);
        // a scale per axis is left to tract
        let mut per_axis = pb::GraphProto {
            node: vec![node("DequantizeLinear", &["x", "s"], "y")],
            initializer: vec![pb::TensorProto { dims: vec![2], ..f32_scalar("s", 0.5) }],
            ..Default::default()
        };
        per_axis.initializer[0].raw_data = [0.5f32, 0.25].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(dequantize_linear_as_arithmetic(&mut per_axis), 0);
    }

    #[test]
    fn a_float16_graph_is_computed_in_f32_with_the_same_values() {
        let halves = [1.0f32, -0.333, 65504.0, 6.1e-5];
        let bits: Vec<u16> = halves.iter().map(|&x| f16::from_f32(x).to_bits()).collect();
        let raw = pb::TensorProto {
            name: "w".into(),
            dims: vec![4],
            data_type: ONNX_FLOAT16,
            raw_data: bits.iter().flat_map(|b| b.to_le_bytes()).collect(),
            ..Default::default()
        };
        let listed = pb::TensorProto {
            name: "b".into(),
            dims: vec![4],
            data_type: ONNX_FLOAT16,
            int32_data: bits.iter().map(|&b| b as i32).collect(),
            ..Default::default()
        };
        let to = |t: i32| pb::AttributeProto { name: "to".into(), i: t as i64, ..Default::default() };
        let value = pb::AttributeProto { name: "value".into(), t: Some(listed.clone()), ..Default::default() };
        let f16_type = |name: &str| pb::ValueInfoProto {
            name: name.into(),
            r#type: Some(pb::TypeProto {
                value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                    elem_type: ONNX_FLOAT16,
                    shape: None,
                })),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut graph = pb::GraphProto {
            node: vec![
                pb::NodeProto {
                    op_type: "Cast".into(),
                    attribute: vec![to(ONNX_FLOAT16)],
                    ..node("Cast", &["x"], "xh")
                },
                pb::NodeProto { op_type: "Constant".into(), attribute: vec![value], ..node("Constant", &[], "c") },
                pb::NodeProto { attribute: vec![to(ONNX_INT64)], ..node("Cast", &["y"], "yi") },
            ],
            initializer: vec![raw, listed, f32_scalar("f", 2.0)],
            output: vec![f16_type("logits")],
            value_info: vec![f16_type("xh")],
            ..Default::default()
        };
        // two initializers, the constant and one cast
        assert_eq!(upcast_float16(&mut graph), 4);
        let expected: Vec<f32> = bits.iter().map(|&b| f16::from_bits(b).to_f32()).collect();
        assert_eq!(expected[2], 65504.0);
        for t in graph.initializer.iter().take(2).chain(graph.node[1].attribute[0].t.as_ref()) {
            assert_eq!(f32_values(t).as_deref(), Some(expected.as_slice()), "{}", t.name);
        }
        assert_eq!(f32_values(&graph.initializer[2]), Some(vec![2.0]));
        assert_eq!(graph.node[0].attribute[0].i, ONNX_FLOAT as i64);
        assert_eq!(graph.node[2].attribute[0].i, ONNX_INT64 as i64);
        for v in graph.output.iter().chain(&graph.value_info) {
            let Some(pb::type_proto::Value::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
                panic!("{} lost its type", v.name)
            };
            assert_eq!(t.elem_type, ONNX_FLOAT);
        }
        // nothing left to change
        assert_eq!(upcast_float16(&mut graph), 0);
    }

    #[test]
    fn the_nan_guard_after_a_softmax_is_dropped_and_nothing_else() {
        let graph = |guarded: &str| pb::GraphProto {
            node: vec![
                node("Softmax", &["s"], "p"),
                node("IsNaN", &[guarded], "nan"),
                node("Where", &["nan", "zero", guarded], "q"),
                node("MatMul", &["q", "v"], "y"),
            ],
            output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
            ..Default::default()
        };
        let mut g = graph("p");
        prepare(&mut g, false);
        let ops: Vec<(&str, Vec<&str>)> =
            g.node.iter().map(|n| (n.op_type.as_str(), n.input.iter().map(String::as_str).collect())).collect();
        assert_eq!(ops, vec![("Softmax", vec!["s"]), ("MatMul", vec!["p", "v"])]);
        // a guard on anything but a softmax stays
        let mut g = graph("s");
        prepare(&mut g, false);
        assert_eq!(g.node.len(), 4);
    }

    #[test]
    fn weight_dequantization_is_folded_into_f32_initializers() {
        let q = pb::TensorProto {
            name: "w_q".into(),
            dims: vec![2, 3],
            data_type: ONNX_INT8,
            raw_data: vec![1, 2, 3, 0xff, 0xfe, 0x80],
            ..Default::default()
        };
        let scale = pb::TensorProto {
            name: "w_s".into(),
            dims: vec![2, 1],
            data_type: ONNX_FLOAT,
            float_data: vec![0.5, 2.0],
            ..Default::default()
        };
        let mut g = pb::GraphProto {
            node: vec![
                node("Cast", &["w_q"], "w_f"),
                node("Mul", &["w_f", "w_s"], "w"),
                node("MatMul", &["x", "w"], "y"),
            ],
            initializer: vec![q, scale],
            ..Default::default()
        };
        fold_weight_dequantization(&mut g);
        assert_eq!(g.node.len(), 1, "only the MatMul is left");
        assert_eq!(g.initializer.len(), 1, "the int8 weight and its scale are gone");
        let w = &g.initializer[0];
        assert_eq!((w.name.as_str(), w.dims.as_slice()), ("w", &[2i64, 3][..]));
        assert_eq!(w.float_data, vec![0.5, 1.0, 1.5, -2.0, -4.0, -256.0]);
        // a broadcast along columns and a scalar
        let a = pb::TensorProto {
            dims: vec![2, 2],
            data_type: ONNX_FLOAT,
            float_data: vec![1.0, 2.0, 3.0, 4.0],
            ..Default::default()
        };
        let row = pb::TensorProto {
            dims: vec![2],
            data_type: ONNX_FLOAT,
            float_data: vec![10.0, 100.0],
            ..Default::default()
        };
        assert_eq!(mul_broadcast(&a, &row), Some((vec![2, 2], vec![10.0, 200.0, 30.0, 400.0])));
        let bad =
            pb::TensorProto { dims: vec![3], data_type: ONNX_FLOAT, float_data: vec![1.0; 3], ..Default::default() };
        assert_eq!(mul_broadcast(&a, &bad), None);
    }

    #[test]
    fn an_int8_embedding_table_is_gathered_before_it_is_dequantised() {
        let q = pb::TensorProto {
            name: "e_q".into(),
            dims: vec![3, 2],
            data_type: ONNX_INT8,
            raw_data: vec![1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        let scale = pb::TensorProto {
            name: "e_s".into(),
            dims: vec![3, 1],
            data_type: ONNX_FLOAT,
            float_data: vec![0.5, 1.0, 2.0],
            ..Default::default()
        };
        let graph = |tied: bool| {
            let mut nodes = vec![
                node("Cast", &["e_q"], "e_f"),
                node("Mul", &["e_f", "e_s"], "e"),
                node("Gather", &["e", "ids"], "x"),
            ];
            if tied {
                nodes.push(node("MatMul", &["x", "e"], "y"));
            }
            pb::GraphProto { node: nodes, initializer: vec![q.clone(), scale.clone()], ..Default::default() }
        };
        let mut g = graph(false);
        prepare(&mut g, true);
        let ops: Vec<(&str, Vec<&str>)> =
            g.node.iter().map(|n| (n.op_type.as_str(), n.input.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            ops,
            vec![
                ("Gather", vec!["e_q", "ids"]),
                ("Cast", vec!["x::minirank_rows_q"]),
                ("Gather", vec!["e_s", "ids"]),
                ("Mul", vec!["x::minirank_rows_f", "x::minirank_rows_s"]),
            ]
        );
        assert_eq!(g.node[3].output, vec!["x".to_string()]);
        let kept: HashSet<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(kept, HashSet::from(["e_q", "e_s"]), "the table stays int8, nothing is folded to f32");
        // a table that something else reads whole (a tied projection) is folded as before
        let mut g = graph(true);
        prepare(&mut g, true);
        assert!(g.node.iter().all(|n| n.op_type != "Cast"));
        assert_eq!(
            g.initializer.iter().map(|t| (t.name.as_str(), t.data_type)).collect::<Vec<_>>(),
            vec![("e", ONNX_FLOAT)]
        );
    }

    #[test]
    fn linear_layers_keep_int8_weights_when_asked() {
        let q = pb::TensorProto {
            name: "w_q".into(),
            dims: vec![2, 3],
            data_type: ONNX_INT8,
            raw_data: vec![1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        let scale = pb::TensorProto {
            name: "w_s".into(),
            dims: vec![1, 3],
            data_type: ONNX_FLOAT,
            float_data: vec![0.5, 1.0, 2.0],
            ..Default::default()
        };
        let graph = |extra_reader: bool| {
            let mut nodes = vec![
                node("Cast", &["w_q"], "w_f"),
                node("Mul", &["w_s", "w_f"], "w"),
                node("MatMul", &["x", "w"], "y"),
            ];
            if extra_reader {
                nodes.push(node("Add", &["w", "w"], "z"));
            }
            pb::GraphProto { node: nodes, initializer: vec![q.clone(), scale.clone()], ..Default::default() }
        };
        let mut g = graph(false);
        prepare(&mut g, true);
        let ops: Vec<(&str, Vec<&str>)> =
            g.node.iter().map(|n| (n.op_type.as_str(), n.input.iter().map(String::as_str).collect())).collect();
        assert_eq!(ops, vec![(int8_linear::OP_TYPE, vec!["x", "w_q", "w_s"])]);
        assert_eq!(g.node[0].output, vec!["y".to_string()]);
        let kept: HashSet<(&str, i32)> = g.initializer.iter().map(|t| (t.name.as_str(), t.data_type)).collect();
        assert_eq!(kept, HashSet::from([("w_q", ONNX_INT8), ("w_s", ONNX_FLOAT)]), "the weights stay int8");
        // not asked (native builds), or the f32 weight is read elsewhere: folded to f32
        for (extra_reader, int8) in [(false, false), (true, true)] {
            let mut g = graph(extra_reader);
            prepare(&mut g, int8);
            assert!(g.node.iter().any(|n| n.op_type == "MatMul") && g.node.iter().all(|n| n.op_type != "Cast"));
            assert!(g.initializer.iter().any(|t| t.name == "w" && t.data_type == ONNX_FLOAT));
        }
        // a scale per input row does not factor out of the sum: left alone
        let mut g = graph(false);
        g.initializer[1] = pb::TensorProto {
            name: "w_s".into(),
            dims: vec![2, 1],
            data_type: ONNX_FLOAT,
            float_data: vec![0.5, 1.0],
            ..Default::default()
        };
        assert_eq!(int8_linear_layers(&mut g), 0);
    }

    fn int64s(name: &str, dims: &[i64], values: &[i64]) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: ONNX_INT64,
            int64_data: values.to_vec(),
            ..Default::default()
        }
    }

    /// transformers' `mask[arange(N)[:, None, None, None], arange(S)[None, None, None, :]]` as
    /// the TorchScript exporter writes it; `stride_axis` is the `Shape(mask)` entry multiplying
    /// the batch index (1 in the real pattern).
    fn indexed_mask_graph(stride_axis: i64) -> pb::GraphProto {
        let rank2 = pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: ONNX_INT64,
                shape: Some(pb::TensorShapeProto { dim: vec![Default::default(); 2] }),
            })),
            ..Default::default()
        };
        let mut flatten = node("Flatten", &["m"], "flat");
        flatten.attribute.push(pb::AttributeProto { name: "axis".into(), i: 2, ..Default::default() });
        pb::GraphProto {
            node: vec![
                node("Cast", &["mask"], "m"),
                node("Shape", &["emb"], "emb_shape"),
                node("Gather", &["emb_shape", "c0"], "n"),
                node("Range", &["zero", "n", "one"], "b"),
                node("Unsqueeze", &["b", "axes123"], "b4"),
                node("Shape", &["m"], "m_shape"),
                node("Gather", &["m_shape", "c1"], "s"),
                node("Range", &["zero", "s", "one"], "k"),
                node("Unsqueeze", &["k", "axes0"], "k2"),
                node("Unsqueeze", &["k2", "axes01"], "k4"),
                node("Gather", &["m_shape", "stride_ix"], "stride"),
                node("Mul", &["b4", "stride"], "bs"),
                node("Add", &["k4", "bs"], "idx"),
                flatten,
                node("Gather", &["flat", "idx"], "g"),
                node("Identity", &["g"], "y"),
            ],
            initializer: vec![
                int64s("c0", &[], &[0]),
                int64s("c1", &[], &[1]),
                int64s("stride_ix", &[1], &[stride_axis]),
                int64s("zero", &[], &[0]),
                int64s("one", &[], &[1]),
                int64s("axes123", &[3], &[1, 2, 3]),
                int64s("axes0", &[1], &[0]),
                int64s("axes01", &[2], &[0, -3]),
            ],
            input: vec![pb::ValueInfoProto { name: "mask".into(), r#type: Some(rank2), ..Default::default() }],
            output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
            ..Default::default()
        }
    }

    #[test]
    fn indexed_padding_mask_becomes_a_slice() {
        let mut g = indexed_mask_graph(1);
        assert_eq!(slice_indexed_padding_mask(&mut g), 1);
        remove_dead_nodes(&mut g);
        let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Cast", "Shape", "Gather", "Reshape", "Slice", "Unsqueeze", "Identity"]);
        let slice = &g.node[4];
        assert_eq!(slice.input[0], "m", "rows 0..N of the mask");
        assert_eq!(g.node[3].input[0], "n", "N = the batch range's end");
        let unsqueeze = &g.node[5];
        assert_eq!(unsqueeze.output[0], "g");
        assert_eq!(ints(&g, &unsqueeze.input[1]), Some(vec![1, 2, 4]), "[N, S] -> [N, 1, 1, S, 1]");
        // strided by another dimension than the mask's row length: not this pattern, untouched
        let mut other = indexed_mask_graph(0);
        let before = other.clone();
        assert_eq!(slice_indexed_padding_mask(&mut other), 0);
        assert_eq!(other, before);
    }

    /// torch's GELU chain, reading `x`; `half_first` gives the order tract already fuses.
    fn gelu_graph(half_first: bool) -> pb::GraphProto {
        let mut nodes =
            vec![node("Div", &["x", "sqrt2"], "d"), node("Erf", &["d"], "e"), node("Add", &["e", "one"], "a")];
        if half_first {
            nodes.extend([node("Mul", &["x", "half"], "h"), node("Mul", &["h", "a"], "y")]);
        } else {
            nodes.extend([node("Mul", &["half", "a"], "h"), node("Mul", &["x", "h"], "y")]);
        }
        pb::GraphProto {
            node: nodes,
            initializer: vec![
                f32_scalar("sqrt2", std::f32::consts::SQRT_2),
                f32_scalar("one", 1.0),
                f32_scalar("half", 0.5),
            ],
            output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
            ..Default::default()
        }
    }

    #[test]
    fn gelu_is_reordered_to_the_form_tract_fuses() {
        let mut g = gelu_graph(false);
        assert_eq!(reorder_gelu(&mut g), 1);
        let want = gelu_graph(true);
        let wires = |g: &pb::GraphProto| {
            g.node.iter().map(|n| (n.op_type.clone(), n.input.clone(), n.output.clone())).collect::<Vec<_>>()
        };
        assert_eq!(wires(&g), wires(&want));
        // already in that form, or not a GELU (another constant, a second reader): untouched
        assert_eq!(reorder_gelu(&mut g), 0);
        let mut other = gelu_graph(false);
        other.initializer[2] = f32_scalar("half", 0.25);
        assert_eq!(reorder_gelu(&mut other), 0);
        let mut shared = gelu_graph(false);
        shared.node.push(node("Neg", &["h"], "z"));
        assert_eq!(reorder_gelu(&mut shared), 0);
    }
}
