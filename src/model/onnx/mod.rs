//! ONNX files (the `onnx` feature): parsed by `tract-onnx`, checked, rewritten
//! ([`rewrite`]), typed and decluttered, ready for [`crate::model::encoder`] to optimise, or for
//! [`crate::model::encoder::convert_to_nnef`] to store.
use crate::error::{Error, ModelRole, Result};
use crate::model::ops::{int8_linear, masked_softmax};
use crate::model::signature::{choose_output, fingerprint, input_kinds, Decluttered, GraphInfo, OutputKind};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use tract_onnx::pb;
use tract_onnx::prelude::*;

pub(crate) mod rewrite;

/// Parse, check and declutter an ONNX file; `int8_linear`: keep weight-only int8 linear layers
/// int8 ([`int8_linear`]).
pub(crate) fn decluttered(role: ModelRole, bytes: &[u8], kind: OutputKind, int8_linear: bool) -> Result<Decluttered> {
    let mut onnx = onnx();
    int8_linear::register(&mut onnx.op_register);
    let proto = onnx
        .proto_model_for_read(&mut Cursor::new(bytes))
        .map_err(|e| Error::BadModel { role, reason: format!("not an ONNX protobuf ({e})") })?;
    let graph =
        proto.graph.as_ref().ok_or_else(|| Error::BadModel { role, reason: "the protobuf holds no graph".into() })?;
    if graph.node.is_empty() {
        return Err(Error::BadModel { role, reason: "the graph has no nodes".into() });
    }
    if let Some(n) = graph.node.iter().find(|n| n.op_type == "MatMulNBits") {
        return Err(Error::BadModel {
            role,
            reason: format!(
                "its linear layers are 4-bit `MatMulNBits` (node {:?}: a q4, q4f16 or bnb4 export), which minirank \
                 does not run; use the model's fp32, fp16 or q8 file",
                n.name
            ),
        });
    }
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = input_kinds(role, graph.input.iter().map(|i| i.name.as_str()).filter(|n| !initializers.contains(n)))?;
    let output = choose_output(role, graph.output.iter().map(|o| (o.name.as_str(), onnx_rank(o))), kind)?;
    let info = GraphInfo {
        vocab_rows: embedding_rows(graph, "input_ids"),
        type_rows: embedding_rows(graph, "token_type_ids"),
        fingerprint: fingerprint(role, bytes),
    };

    let mut proto = proto;
    if let Some(graph) = proto.graph.as_mut() {
        rewrite::prepare(graph, int8_linear);
    }
    let mut model = onnx.model_for_proto_model(&proto).map_err(|e| Error::bad_model(role, e))?;
    drop(proto);
    model.select_outputs_by_name([output.as_str()]).map_err(|e| Error::bad_model(role, e))?;
    let mut model = model.into_typed().and_then(|m| m.into_decluttered()).map_err(|e| Error::bad_model(role, e))?;
    masked_softmax::fuse(&mut model).map_err(|e| Error::bad_model(role, e))?;
    Ok(Decluttered { model, inputs, output, info })
}

fn onnx_rank(v: &pb::ValueInfoProto) -> Option<usize> {
    let pb::type_proto::Value::TensorType(t) = v.r#type.as_ref()?.value.as_ref()?;
    Some(t.shape.as_ref()?.dim.len())
}

/// Rows of the embedding table gathered by `input`: follows the Gather's data operand back
/// through dequantisation (Cast, Mul, DequantizeLinear, Identity, ...) to a rank-2 constant.
fn embedding_rows(graph: &pb::GraphProto, input: &str) -> Option<usize> {
    let producers: HashMap<&str, &pb::NodeProto> =
        graph.node.iter().flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n))).collect();
    let initializers: HashMap<&str, &pb::TensorProto> =
        graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    // the ids may pass through a Cast (int64 -> int32) before the Gather
    let mut id_names: HashSet<&str> = HashSet::from([input]);
    for n in &graph.node {
        if n.op_type == "Cast" && n.input.first().is_some_and(|i| i == input) {
            id_names.extend(n.output.iter().map(String::as_str));
        }
    }
    let gather = graph
        .node
        .iter()
        .find(|n| n.op_type == "Gather" && n.input.get(1).is_some_and(|i| id_names.contains(i.as_str())))?;
    let mut stack = vec![(gather.input.first()?.as_str(), 0usize)];
    while let Some((name, depth)) = stack.pop() {
        if let Some(t) = initializers.get(name) {
            if t.dims.len() == 2 {
                return usize::try_from(t.dims[0]).ok();
            }
            continue;
        }
        let node = producers.get(name)?;
        if node.op_type == "Constant" {
            let dims = node.attribute.iter().find_map(|a| a.t.as_ref()).map(|t| t.dims.clone())?;
            if dims.len() == 2 {
                return usize::try_from(dims[0]).ok();
            }
            continue;
        }
        if depth < 6
            && matches!(node.op_type.as_str(), "Cast" | "Mul" | "Div" | "Identity" | "DequantizeLinear" | "Reshape")
        {
            stack.extend(node.input.iter().rev().map(|i| (i.as_str(), depth + 1)));
        }
    }
    None
}
