//! Rewrites of an ONNX graph before tract loads it, each exact (the same arithmetic, in an
//! order or form that tract optimises better):
//! - weight-only int8 dequantisation (`Mul(Cast(int8), scale)`) folded into f32 initializers;
//! - exact GELU reordered so that tract fuses its five nodes into one `GeluExact`.
use std::collections::{HashMap, HashSet};
use tract_onnx::pb;

/// All rewrites, in order.
pub(crate) fn prepare(graph: &mut pb::GraphProto) {
    fold_weight_dequantization(graph);
    reorder_gelu(graph);
}

const ONNX_FLOAT: i32 = 1;
const ONNX_UINT8: i32 = 2;
const ONNX_INT8: i32 = 3;

/// Weight-only int8 models store weights as `Mul(Cast(int8 initializer), scale initializer)`.
/// tract keeps that subgraph (folding it would grow the weights 4×) and so dequantizes every
/// weight on every run — about 60 ms of a MiniLM forward pass. Fold it once here into f32
/// initializers: the graph then runs plain f32 MatMuls on pre-packed weights, with results
/// identical to doing the same arithmetic at run time.
fn fold_weight_dequantization(graph: &mut pb::GraphProto) {
    let mut inits: HashMap<String, pb::TensorProto> = graph.initializer.drain(..).map(|t| (t.name.clone(), t)).collect();
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
            inits.insert(out.clone(), pb::TensorProto { name: out, dims, data_type: ONNX_FLOAT, float_data: data, ..Default::default() });
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
    let at = |v: &[f32], s: [usize; 2], r: usize, c: usize| v[(if s[0] == 1 { 0 } else { r }) * s[1] + if s[1] == 1 { 0 } else { c }];
    let mut data = Vec::with_capacity(out[0] * out[1]);
    for r in 0..out[0] {
        for c in 0..out[1] {
            data.push(at(&x, sa, r, c) * at(&y, sb, r, c));
        }
    }
    let dims = if a.dims.len().max(b.dims.len()) == 2 { vec![out[0] as i64, out[1] as i64] } else if a.dims.len().max(b.dims.len()) == 1 { vec![out[1] as i64] } else { vec![] };
    Some((dims, data))
}

/// A scalar f32 constant: a one-element initializer or `Constant` node.
fn scalar(graph: &pb::GraphProto, name: &str) -> Option<f32> {
    // decode only one-element tensors (a weight passed here would otherwise be copied whole)
    let one = |t: &pb::TensorProto| (t.dims.iter().product::<i64>() == 1).then(|| f32_values(t)).flatten().map(|v| v[0]);
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
    let is_const = |name: &str, value: f32| scalar(graph, name).is_some_and(|v| (v - value).abs() <= 1e-6 * value.abs());
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
        pb::TensorProto { name: name.into(), dims: vec![], data_type: ONNX_FLOAT, float_data: vec![v], ..Default::default() }
    }

    #[test]
    fn weight_dequantization_is_folded_into_f32_initializers() {
        let q = pb::TensorProto { name: "w_q".into(), dims: vec![2, 3], data_type: ONNX_INT8, raw_data: vec![1, 2, 3, 0xff, 0xfe, 0x80], ..Default::default() };
        let scale = pb::TensorProto { name: "w_s".into(), dims: vec![2, 1], data_type: ONNX_FLOAT, float_data: vec![0.5, 2.0], ..Default::default() };
        let mut g = pb::GraphProto {
            node: vec![node("Cast", &["w_q"], "w_f"), node("Mul", &["w_f", "w_s"], "w"), node("MatMul", &["x", "w"], "y")],
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
        let a = pb::TensorProto { dims: vec![2, 2], data_type: ONNX_FLOAT, float_data: vec![1.0, 2.0, 3.0, 4.0], ..Default::default() };
        let row = pb::TensorProto { dims: vec![2], data_type: ONNX_FLOAT, float_data: vec![10.0, 100.0], ..Default::default() };
        assert_eq!(mul_broadcast(&a, &row), Some((vec![2, 2], vec![10.0, 200.0, 30.0, 400.0])));
        let bad = pb::TensorProto { dims: vec![3], data_type: ONNX_FLOAT, float_data: vec![1.0; 3], ..Default::default() };
        assert_eq!(mul_broadcast(&a, &bad), None);
    }

    /// torch's GELU chain, reading `x`; `half_first` gives the order tract already fuses.
    fn gelu_graph(half_first: bool) -> pb::GraphProto {
        let mut nodes = vec![node("Div", &["x", "sqrt2"], "d"), node("Erf", &["d"], "e"), node("Add", &["e", "one"], "a")];
        if half_first {
            nodes.extend([node("Mul", &["x", "half"], "h"), node("Mul", &["h", "a"], "y")]);
        } else {
            nodes.extend([node("Mul", &["half", "a"], "h"), node("Mul", &["x", "h"], "y")]);
        }
        pb::GraphProto {
            node: nodes,
            initializer: vec![f32_scalar("sqrt2", std::f32::consts::SQRT_2), f32_scalar("one", 1.0), f32_scalar("half", 0.5)],
            output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
            ..Default::default()
        }
    }

    #[test]
    fn gelu_is_reordered_to_the_form_tract_fuses() {
        let mut g = gelu_graph(false);
        assert_eq!(reorder_gelu(&mut g), 1);
        let want = gelu_graph(true);
        let wires = |g: &pb::GraphProto| g.node.iter().map(|n| (n.op_type.clone(), n.input.clone(), n.output.clone())).collect::<Vec<_>>();
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
