//! An encoder graph's signature, whatever file it came from: which inputs it takes (and what each
//! means), which output minirank computes for a role, and what its tables say for the tokenizer
//! checks; and [`Decluttered`], the stage an ONNX file (`crate::model::onnx`) and an NNEF file reach
//! before `encoder` optimises them.
use crate::error::{Error, ModelRole, Result};
use crate::model::nnef;
use tract_nnef::prelude::*;

/// What a graph output must look like for a role.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OutputKind {
    /// `[batch, sequence, hidden]` token states (bi-encoder, pooled by minirank).
    TokenStates,
    /// `[batch, labels]` logits (cross-encoder).
    Logits,
}

impl OutputKind {
    pub(crate) fn rank(self) -> usize {
        match self {
            OutputKind::TokenStates => 3,
            OutputKind::Logits => 2,
        }
    }
    fn preferred_names(self) -> &'static [&'static str] {
        match self {
            OutputKind::TokenStates => &["last_hidden_state", "token_embeddings", "hidden_states"],
            OutputKind::Logits => &["logits", "scores", "output"],
        }
    }
}

/// Which model input a graph input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    Ids,
    Mask,
    TypeIds,
}

/// What minirank learned about a graph before compiling it.
#[derive(Debug, Clone)]
pub(crate) struct GraphInfo {
    /// Rows of the word-embedding table (the model's vocabulary), when it could be traced.
    pub vocab_rows: Option<usize>,
    /// Rows of the token-type table, when it could be traced.
    pub type_rows: Option<usize>,
    /// Bi-encoders only (saved indexes record it; a cross-encoder's is never read, so its 23 MB are
    /// not hashed): CRC-32 of the ONNX file, for an NNEF file of the ONNX file it was converted from.
    pub fingerprint: Option<u32>,
}

/// The bi-encoder's fingerprint of a model file (see [`GraphInfo::fingerprint`]).
pub(crate) fn fingerprint(role: ModelRole, bytes: &[u8]) -> Option<u32> {
    (role == ModelRole::BiEncoder).then(|| crc32fast::hash(bytes))
}

/// A graph typed and decluttered (tract's form before code generation), with what minirank
/// read from it: an ONNX file at this stage, or an NNEF file [`convert_to_nnef`] wrote.
pub(crate) struct Decluttered {
    pub model: TypedModel,
    pub inputs: Vec<InputKind>,
    /// the name of the output computed
    pub output: String,
    pub info: GraphInfo,
}

impl Decluttered {
    /// Read an NNEF file ([`nnef::read`]) and check its signature; what minirank read from the ONNX
    /// file it was converted from comes from its properties.
    pub(crate) fn from_nnef(role: ModelRole, bytes: &[u8], kind: OutputKind) -> Result<Self> {
        let mut model = nnef::read(bytes)
            .map_err(|e| Error::BadModel { role, reason: format!("not a tract NNEF archive ({e:#})") })?;
        let inputs = input_kinds(
            role,
            model
                .input_outlets()
                .map_err(|e| Error::bad_model(role, e))?
                .iter()
                .map(|o| model.node(o.node).name.as_str()),
        )?;
        let outputs = model.output_outlets().map_err(|e| Error::bad_model(role, e))?.to_vec();
        let named: Vec<(String, Option<usize>)> = outputs
            .iter()
            .map(|&o| Ok((model.node(o.node).name.clone(), Some(model.outlet_fact(o)?.rank()))))
            .collect::<TractResult<_>>()
            .map_err(|e| Error::bad_model(role, e))?;
        let output = choose_output(role, named.iter().map(|(n, r)| (n.as_str(), *r)), kind)?;
        let chosen = outputs[named.iter().position(|(n, _)| *n == output).expect("chosen among them")];
        model.select_output_outlets(&[chosen]).map_err(|e| Error::bad_model(role, e))?;
        let rows = |name| nnef::property(&model, name).and_then(|v| usize::try_from(v).ok());
        let info = GraphInfo {
            vocab_rows: rows(nnef::VOCAB_ROWS),
            type_rows: rows(nnef::TYPE_ROWS),
            fingerprint: nnef::property(&model, nnef::FINGERPRINT)
                .map(|v| v as u32)
                .or_else(|| fingerprint(role, bytes)),
        };
        Ok(Self { model, inputs, output, info })
    }
}

/// The graph's real inputs (initializers excluded), by name, mapped to what they mean.
pub(crate) fn input_kinds<'a>(role: ModelRole, names: impl Iterator<Item = &'a str>) -> Result<Vec<InputKind>> {
    let mut kinds = Vec::new();
    for name in names {
        let kind = match name {
            "input_ids" => InputKind::Ids,
            "attention_mask" => InputKind::Mask,
            "token_type_ids" => InputKind::TypeIds,
            other => {
                return Err(Error::ModelSignature {
                    role,
                    reason: format!(
                        "unexpected input `{other}`; a BERT-family encoder takes input_ids, attention_mask and optionally token_type_ids"
                    ),
                })
            }
        };
        kinds.push(kind);
    }
    for (need, name) in [(InputKind::Ids, "input_ids"), (InputKind::Mask, "attention_mask")] {
        if !kinds.contains(&need) {
            return Err(Error::ModelSignature { role, reason: format!("the graph has no `{name}` input") });
        }
    }
    Ok(kinds)
}

/// Pick the graph output to compute (outputs by name and rank, if known): a preferred name of
/// the right rank, else the only output of that rank.
pub(crate) fn choose_output<'a>(
    role: ModelRole,
    outputs: impl Iterator<Item = (&'a str, Option<usize>)>,
    kind: OutputKind,
) -> Result<String> {
    let outputs: Vec<(&str, Option<usize>)> = outputs.collect();
    if outputs.is_empty() {
        return Err(Error::ModelSignature { role, reason: "the graph has no outputs".into() });
    }
    let fits = |r: Option<usize>| r.is_none() || r == Some(kind.rank());
    for name in kind.preferred_names() {
        if let Some((n, r)) = outputs.iter().find(|(n, _)| n == name) {
            if fits(*r) {
                return Ok(n.to_string());
            }
        }
    }
    let candidates: Vec<&str> = outputs.iter().filter(|(_, r)| *r == Some(kind.rank())).map(|(n, _)| *n).collect();
    match candidates.as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(Error::ModelSignature {
            role,
            reason: format!(
                "expected one rank-{} output ({}), found {:?}",
                kind.rank(),
                match kind {
                    OutputKind::TokenStates => "[batch, sequence, hidden] token states",
                    OutputKind::Logits => "[batch, labels] logits",
                },
                outputs
                    .iter()
                    .map(|(n, r)| format!("{n} (rank {})", r.map_or("?".into(), |r| r.to_string())))
                    .collect::<Vec<_>>()
            ),
        }),
    }
}
