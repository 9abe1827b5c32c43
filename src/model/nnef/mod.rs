//! Encoder graphs in tract's NNEF, converted ahead of time.
//!
//! Loading an ONNX file makes tract parse the protobuf, infer every type and shape, and
//! declutter the graph, each time a page loads; on wasm that was most of the time to build a
//! model. [`write`] stores the graph at that point, decluttered, with the int8 linear layers
//! already packed ([`int8_linear::Int8Linear`]), as an uncompressed tar; [`read`] loads it back,
//! and only tract's code generation (`optimize`) is left to do. `minirank convert` (and the npm
//! package's build) writes these files; [`crate::model::encoder::CompiledEncoder`] takes either format.
//!
//! What minirank learned from the ONNX graph travels as tract properties: [`VOCAB_ROWS`],
//! [`TYPE_ROWS`] and [`FINGERPRINT`] (the CRC-32 of the ONNX file, so that an index built from the
//! ONNX model is accepted with its NNEF conversion and the other way round).
use crate::model::ops::int8_linear::{Int8Linear, PackedWeights};
use crate::model::ops::masked_softmax::{self, MaskedSoftmax};
use std::sync::Arc;
use tract_nnef::ast::{Identifier, QuantFormat};
use tract_nnef::internal::*;
use tract_nnef::resource::{GraphNnef, GRAPH_NNEF_FILENAME, GRAPH_QUANT_FILENAME};
use tract_nnef::tract_core::ops::nn::GeluExact;
use tract_nnef::ProtoModel;

pub(crate) mod framework;
pub(crate) mod text;

/// The tract registry (NNEF `extension`) of minirank's operators.
const EXTENSION: &str = "minirank";
/// [`Int8Linear`] in NNEF: `minirank_int8_linear(input, columns, scales, k = K)`.
const INT8_LINEAR: &str = "minirank_int8_linear";
/// The same with offsets (`y += Σx · offsets`, uint8 weights with a zero point).
const INT8_LINEAR_OFFSETS: &str = "minirank_int8_linear_offsets";
/// tract 0.23.9 fuses `0.5 · x · (1 + erf(x / √2))` into `GeluExact` but has no NNEF name for it.
const GELU_EXACT: &str = "minirank_gelu_exact";

/// Property: rows of the word-embedding table (i64; -1 when it could not be traced).
pub(crate) const VOCAB_ROWS: &str = "minirank.vocab_rows";
/// Property: rows of the token-type table (i64; -1 when it could not be traced).
pub(crate) const TYPE_ROWS: &str = "minirank.type_rows";
/// Property: CRC-32 of the ONNX file this graph was converted from (i64).
pub(crate) const FINGERPRINT: &str = "minirank.fingerprint";

/// tract's NNEF framework (its core operators) with minirank's. A graph holding operators of
/// neither fails to convert, and stays an ONNX file. Built once, without tract's parser
/// ([`crate::model::nnef::framework`]).
fn framework() -> &'static Nnef {
    static NNEF: std::sync::OnceLock<Nnef> = std::sync::OnceLock::new();
    NNEF.get_or_init(|| crate::model::nnef::framework::framework(registry()))
}

fn registry() -> Registry {
    let mut registry =
        Registry::new(EXTENSION).with_doc("minirank's operators: int8 linear layers, exact GELU, masked softmax");
    registry.register_dumper(dump_int8_linear);
    // the int8 linear layer, and the same with offsets (uint8 weights with a zero point)
    for (name, offsets) in [(INT8_LINEAR, false), (INT8_LINEAR_OFFSETS, true)] {
        let mut params = vec![
            TypeName::Scalar.tensor().named("input"),
            TypeName::Integer.tensor().named("columns"),
            TypeName::Scalar.tensor().named("scales"),
        ];
        if offsets {
            params.push(TypeName::Scalar.tensor().named("offsets"));
        }
        params.push(TypeName::Integer.named("k"));
        registry.register_primitive(name, &params, &[("output", TypeName::Scalar.tensor())], load_int8_linear);
    }
    registry.register_unit_element_wise(GELU_EXACT, &GeluExact {});
    registry.register_dumper(dump_masked_softmax);
    registry.register_primitive(
        masked_softmax::NAME,
        &[TypeName::Scalar.tensor().named("input"), TypeName::Scalar.tensor().named("mask")],
        &[("output", TypeName::Scalar.tensor())],
        load_masked_softmax,
    );
    registry
}

fn dump_masked_softmax(ast: &mut IntoAst, node: &TypedNode, _: &MaskedSoftmax) -> TractResult<Option<Arc<RValue>>> {
    let inputs = [ast.mapping[&node.inputs[0]].clone(), ast.mapping[&node.inputs[1]].clone()];
    Ok(Some(invocation(masked_softmax::NAME, &inputs, &[])))
}

fn load_masked_softmax(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let mask = invocation.named_arg_as(builder, "mask")?;
    builder.wire(MaskedSoftmax, &[input, mask])
}

fn dump_int8_linear(ast: &mut IntoAst, node: &TypedNode, op: &Int8Linear) -> TractResult<Option<Arc<RValue>>> {
    let input = ast.mapping[&node.inputs[0]].clone();
    let (columns, scales, k) = op.weights.to_tensors()?;
    let columns = ast.konst_variable(format!("{}.columns", node.name), &columns)?;
    let scales = ast.konst_variable(format!("{}.scales", node.name), &scales.into_arc_tensor())?;
    Ok(Some(match op.weights.offsets_tensor()? {
        None => invocation(INT8_LINEAR, &[input, columns, scales], &[("k", numeric(k))]),
        Some(offsets) => {
            let offsets = ast.konst_variable(format!("{}.offsets", node.name), &offsets.into_arc_tensor())?;
            invocation(INT8_LINEAR_OFFSETS, &[input, columns, scales, offsets], &[("k", numeric(k))])
        }
    }))
}

fn load_int8_linear(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let columns: Arc<Tensor> = invocation.named_arg_as(builder, "columns")?;
    let scales: Arc<Tensor> = invocation.named_arg_as(builder, "scales")?;
    let k: usize = invocation.named_arg_as(builder, "k")?;
    let mut weights = PackedWeights::from_tensors(columns, &scales, k)?;
    if invocation.invocation.id.0 == INT8_LINEAR_OFFSETS {
        let offsets: Arc<Tensor> = invocation.named_arg_as(builder, "offsets")?;
        weights = weights.with_offsets(offsets.cast_to::<f32>()?.try_as_plain_ram()?.as_slice::<f32>()?)?;
    }
    let op = Int8Linear { weights: Arc::new(weights) };
    builder.wire(op, &[input])
}

/// Whether `bytes` is a tar archive (POSIX `ustar` magic): NNEF, not an ONNX protobuf.
pub(crate) fn is_nnef(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// The decluttered `model` as an uncompressed NNEF tar; the same model gives the same bytes.
#[cfg(any(feature = "onnx", test))]
pub(crate) fn write(model: &TypedModel) -> TractResult<Vec<u8>> {
    framework().write_to_tar_with_config(model, Vec::new(), false, true)
}

/// A model [`write`] wrote (or any NNEF tract reads), ready for `optimize`. The same model and
/// the same errors as tract's `model_for_read`, which it replicates but for `graph.nnef`, read by
/// [`crate::model::nnef::text`] instead of tract's slower parser; an archive [`Contents::read`] does not
/// take is read by `model_for_read` itself.
pub(crate) fn read(bytes: &[u8]) -> TractResult<TypedModel> {
    let Some(contents) = Contents::read(bytes) else {
        return framework().model_for_read(&mut &*bytes);
    };
    // the contexts `model_for_read` gives its two steps
    let proto = contents.proto_model().context("Reading proto model")?;
    framework().model_for_proto_model(&proto).context("Translating proto model to model")
}

/// An NNEF tar's contents, loaded as tract's `proto_model_for_read` loads them (a private
/// function, which also parses `graph.nnef` with tract's parser).
struct Contents {
    /// `graph.nnef`'s text.
    graph: String,
    /// The `.dat` files, by path less the extension.
    tensors: HashMap<Identifier, Arc<Tensor>>,
    /// What the other loaders took (a `.nnef.tar` model, say), by id.
    resources: HashMap<String, Arc<dyn Resource>>,
}

impl Contents {
    /// The files of an uncompressed tar holding a top-level `graph.nnef`, tensors and resources
    /// tract keeps as they are. `None` for anything else, left to tract: a gzip stream, a nested
    /// model (`<name>/graph.nnef`), `graph.quant`, safetensors, and every error (tract meets it
    /// again and reports it as it always has).
    fn read(bytes: &[u8]) -> Option<Contents> {
        if bytes.len() < 2 || bytes.starts_with(&[0x1f, 0x8b]) {
            return None;
        }
        let mut resources = HashMap::new();
        for entry in tar::Archive::new(bytes).entries().ok()? {
            let mut entry = entry.ok()?;
            let mut path = entry.path().ok()?.to_path_buf();
            if path.starts_with("./") {
                path = path.strip_prefix("./").ok()?.to_path_buf();
            }
            if !is_hidden(&path) {
                load(&path, &mut entry, &mut resources)?;
            }
        }
        let graph = resources.remove(GRAPH_NNEF_FILENAME)?.downcast_arc::<GraphNnef>().ok()?;
        let graph = Arc::try_unwrap(graph).ok()?.0;
        let mut tensors = HashMap::new();
        let mut kept = HashMap::new();
        for (id, resource) in resources {
            if is_nested_graph(&id) {
                return None;
            }
            match resource.downcast_arc::<Tensor>() {
                Ok(tensor) => {
                    tensors.insert(Identifier::from(&*id), tensor);
                }
                Err(resource) if is_plain(&id, &*resource) => {
                    kept.insert(id, resource);
                }
                Err(_) => return None,
            }
        }
        Some(Contents { graph, tensors, resources: kept })
    }

    /// tract's `ProtoModel` (its `proto_model_from_resources`, without nested models, quantization
    /// or jinja templates, none of which minirank's tract build enables or writes), checked.
    fn proto_model(self) -> TractResult<ProtoModel> {
        let doc = crate::model::nnef::text::parse_document(&self.graph)?;
        let proto = ProtoModel { doc, tensors: self.tensors, quantization: None, resources: self.resources };
        proto.validate()?;
        Ok(proto)
    }
}

/// Whether tract skips this entry: a component starts with `.` (macOS tar's `._` files). tract
/// checks only on unix targets (not wasm32): so does this.
fn is_hidden(path: &std::path::Path) -> bool {
    cfg!(target_family = "unix") && path.components().any(|c| c.as_os_str().as_encoded_bytes().first() == Some(&b'.'))
}

/// tract's `read_stream`: the first of the framework's loaders that takes the file loads it, under
/// an id no other file has (for tract, a repeated id is an error; here, `None`).
fn load(
    path: &std::path::Path,
    reader: &mut dyn std::io::Read,
    resources: &mut HashMap<String, Arc<dyn Resource>>,
) -> Option<()> {
    for loader in &framework().resource_loaders {
        if let Some((id, resource)) = loader.try_load(path, reader, framework()).ok()? {
            if resources.contains_key(&id) {
                return None;
            }
            resources.insert(id, resource);
            break;
        }
    }
    Some(())
}

/// An id tract takes for a nested model's graph: `<name>/graph.nnef`.
fn is_nested_graph(id: &str) -> bool {
    let mut parts = id.split('/');
    parts.next().is_some() && parts.next() == Some(GRAPH_NNEF_FILENAME) && parts.next().is_none()
}

/// Whether tract keeps this resource (not a tensor) as it is, by the ProtoModel's `resources`.
fn is_plain(id: &str, resource: &dyn Resource) -> bool {
    id != GRAPH_QUANT_FILENAME
        && !resource.is::<GraphNnef>()
        && !resource.is::<HashMap<String, QuantFormat>>()
        && !resource.is::<Vec<(String, Arc<Tensor>)>>()
}

/// An integer property [`write`] recorded, if present and not negative.
pub(crate) fn property(model: &TypedModel, name: &str) -> Option<i64> {
    model.properties.get(name).and_then(|t| t.cast_to_scalar::<i64>().ok()).filter(|v| *v >= 0)
}

/// Record an integer property (-1 for none).
#[cfg(any(feature = "onnx", test))]
pub(crate) fn set_property(model: &mut TypedModel, name: &str, value: Option<i64>) {
    model.properties.insert(name.to_string(), rctensor0(value.unwrap_or(-1)));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ModelRole;

    /// Both default models converted to NNEF (`convert_to_nnef`), once per test run.
    pub(crate) fn default_archives() -> &'static [(ModelRole, Vec<u8>)] {
        static ARCHIVES: std::sync::OnceLock<Vec<(ModelRole, Vec<u8>)>> = std::sync::OnceLock::new();
        ARCHIVES.get_or_init(|| {
            [
                ("models/bi-encoder/model.onnx", ModelRole::BiEncoder),
                ("models/cross-encoder/model.onnx", ModelRole::CrossEncoder),
            ]
            .into_iter()
            .map(|(path, role)| {
                let onnx = std::fs::read(path).unwrap_or_else(|_| panic!("{path}: run scripts/setup.sh models"));
                (role, crate::convert_to_nnef(role, &onnx).unwrap())
            })
            .collect()
        })
    }

    /// The files of a tar, by name as stored.
    fn files(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        for entry in tar::Archive::new(archive).entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            files.push((entry.path().unwrap().to_string_lossy().into_owned(), data));
        }
        files
    }

    /// An archive's `graph.nnef`.
    pub(crate) fn graph_text(archive: &[u8]) -> String {
        let (_, text) = files(archive).into_iter().find(|(name, _)| name == GRAPH_NNEF_FILENAME).expect("a graph.nnef");
        String::from_utf8(text).unwrap()
    }

    /// A tar of these files, their names stored as given (`tar::Header::set_path` would drop a
    /// leading `./`).
    fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append(&header, &data[..]).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// `read` and tract's `model_for_read` on `bytes`: the same nodes and properties, or the same
    /// error.
    fn reads_as_tract_does(bytes: &[u8]) {
        match (read(bytes), framework().model_for_read(&mut &*bytes)) {
            (Ok(ours), Ok(tracts)) => {
                assert_eq!(ours.nodes.len(), tracts.nodes.len());
                for (a, b) in ours.nodes.iter().zip(&tracts.nodes) {
                    assert_eq!(
                        (&a.name, &a.inputs, format!("{:?}", a.op)),
                        (&b.name, &b.inputs, format!("{:?}", b.op))
                    );
                    assert_eq!(format!("{:?}", a.outputs), format!("{:?}", b.outputs), "{}", a.name);
                }
                assert_eq!(
                    (ours.input_outlets().unwrap(), ours.output_outlets().unwrap()),
                    (tracts.input_outlets().unwrap(), tracts.output_outlets().unwrap())
                );
                let sorted = |m: &TypedModel| {
                    m.properties.iter().map(|(k, v)| format!("{k}: {v:?}")).collect::<std::collections::BTreeSet<_>>()
                };
                assert_eq!(sorted(&ours), sorted(&tracts));
            }
            (Err(ours), Err(tracts)) => assert_eq!(format!("{ours:#}"), format!("{tracts:#}")),
            (ours, tracts) => panic!("read: {:?}, tract: {:?}", ours.map(|_| ()), tracts.map(|_| ())),
        }
    }

    fn gelu_model() -> TypedModel {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact([2usize, 8])).unwrap();
        let y = model
            .wire_node(
                "gelu",
                tract_nnef::tract_core::ops::element_wise::ElementWiseOp(Box::new(GeluExact {}), None),
                &[x],
            )
            .unwrap();
        model.select_output_outlets(&y).unwrap();
        set_property(&mut model, VOCAB_ROWS, Some(30522));
        set_property(&mut model, TYPE_ROWS, None);
        model
    }

    #[test]
    fn int8_linear_layers_with_and_without_offsets_read_back_the_same() {
        let (k, n) = (8, 3);
        let q: Vec<i8> = (0..k * n).map(|i| (i as i32 * 37 % 255 - 127) as i8).collect();
        for offsets in [None, Some([0.5f32, -1.0, 2.0])] {
            let mut weights = PackedWeights::new(&q, k, n, &[0.01, 0.02, 0.03]).unwrap();
            if let Some(o) = offsets {
                weights = weights.with_offsets(&o).unwrap();
            }
            let mut model = TypedModel::default();
            let x = model.add_source("x", f32::fact([2usize, k])).unwrap();
            let y = model.wire_node("linear", Int8Linear { weights: Arc::new(weights) }, &[x]).unwrap();
            model.select_output_outlets(&y).unwrap();
            let bytes = write(&model).unwrap();
            assert_eq!(graph_text(&bytes).contains(INT8_LINEAR_OFFSETS), offsets.is_some());
            let input = tensor2(&[[0.5f32, -1.0, 0.25, 2.0, 0.0, 1.0, -0.75, 0.1], [1.0; 8]]);
            let run = |m: TypedModel| {
                let plan = m.into_runnable().unwrap();
                plan.run(tvec!(input.clone().into_tvalue())).unwrap().remove(0).into_tensor()
            };
            let back = read(&bytes).unwrap();
            assert_eq!(run(back), run(model), "offsets {offsets:?}");
        }
    }

    #[test]
    fn a_tar_is_nnef_and_a_protobuf_is_not() {
        let model = gelu_model();
        let bytes = write(&model).unwrap();
        assert!(is_nnef(&bytes));
        assert_eq!(write(&model).unwrap(), bytes, "the same model gives the same bytes");
        assert!(!is_nnef(b"\x08\x07\x12\x07pytorch"));
        let back = read(&bytes).unwrap();
        assert_eq!(property(&back, VOCAB_ROWS), Some(30522));
        assert_eq!(property(&back, TYPE_ROWS), None);
        let input = tensor2(&[[-3f32, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0]; 2]);
        let run = |m: TypedModel| {
            m.into_optimized().unwrap().into_runnable().unwrap().run(tvec!(input.clone().into_tvalue())).unwrap()
        };
        assert_eq!(run(back)[0], run(model)[0], "exact GELU survives the round trip");
    }

    #[test]
    fn the_default_models_read_as_tract_reads_them_without_tracts_parser() {
        for (role, bytes) in default_archives() {
            assert!(Contents::read(bytes).is_some(), "{role:?}: read by tract");
            assert!(
                crate::model::nnef::text::parse_fast(&graph_text(bytes)).is_some(),
                "{role:?}: graph.nnef read by tract"
            );
            reads_as_tract_does(bytes);
        }
    }

    #[test]
    fn archives_read_otherwise_go_to_tract_with_tracts_errors() {
        let bytes = write(&gelu_model()).unwrap();
        let original = files(&bytes);
        let with = |extra: &[(&str, &[u8])]| {
            let mut files = original.clone();
            files.extend(extra.iter().map(|(name, data)| (name.to_string(), data.to_vec())));
            tar_of(&files)
        };
        // read here: the archive as written, with `./` prefixes, with a hidden file tract skips
        let dotted: Vec<(String, Vec<u8>)> =
            original.iter().map(|(name, data)| (format!("./{name}"), data.clone())).collect();
        let hidden = with(&[("._graph.nnef.dat", b"AppleDouble")]);
        for (archive, what) in
            [(bytes.clone(), "as written"), (tar_of(&dotted), "./ prefixes"), (hidden, "hidden file")]
        {
            assert_eq!(
                Contents::read(&archive).is_some(),
                what != "hidden file" || cfg!(target_family = "unix"),
                "{what}"
            );
            reads_as_tract_does(&archive);
        }
        // left to tract: compressed, nested models, quantization, errors (tract's own, in full)
        let not_a_graph = tar_of(&[("graph.nnef".to_string(), b"version 1.0; graph g( -> ()".to_vec())]);
        for (archive, what) in [
            (vec![0x1f, 0x8b, 8, 0], "gzip"),
            (vec![], "empty"),
            (with(&[("sub/graph.nnef", b"version 1.0; graph g() -> () {}")]), "nested model"),
            (with(&[("graph.quant", b"")]), "graph.quant"),
            (with(&[("graph.nnef", b"")]), "two graphs"),
            (with(&[("x.dat", b"not a tensor")]), "bad tensor"),
            (bytes[..600].to_vec(), "cut in graph.nnef"),
            (tar_of(&original[1..]), "no graph.nnef"),
        ] {
            assert!(Contents::read(&archive).is_none(), "{what}");
            reads_as_tract_does(&archive);
        }
        // read here, and the syntax error is tract's parser's
        assert!(Contents::read(&not_a_graph).is_some());
        reads_as_tract_does(&not_a_graph);
    }
}
