//! tract's NNEF framework, built without tract's NNEF parser.
//!
//! `tract_nnef::nnef()` parses NNEF's standard library (18 KB of fragment definitions) with
//! tract's parser, and the `tract_nnef` registry it holds parses it again. In wasm this runs once
//! per page load, in V8's baseline tier and compiled on first call, and was most of a first
//! model build (docs/performance.md, "Measurements behind the code").
//!
//! Here the library is read once, by [`text`] (which gives exactly tract's fragments;
//! tract's parser is the fallback), and both are built from it: [`framework`] is
//! `Nnef::default()`, and [`tract_nnef_registry`] is `tract_nnef::ops::tract_nnef()`, registration
//! for registration (copied from tract-nnef 0.23.9, MIT OR Apache-2.0). The tests compare both
//! with tract's own, so an upgrade of tract that changes either fails them.
use crate::model::nnef::text;
use tract_nnef::internal::*;
use tract_nnef::ops::nnef::{deser, ser};
use tract_nnef::tract_core::ops as core_ops;

/// NNEF's standard library, as tract-nnef 0.23.9 ships it (its `stdlib.nnef`).
const STDLIB: &str = include_str!("stdlib.nnef");

/// The standard library's fragments: read by [`text`], or by tract if it could not vouch for
/// its reading.
fn stdlib() -> Vec<FragmentDef> {
    text::parse_fragments_fast(STDLIB).unwrap_or_else(tract_nnef::framework::stdlib)
}

/// `tract_nnef::nnef().with_registry(extra)`, with the standard library parsed once, here.
pub(crate) fn framework(extra: Registry) -> Nnef {
    let stdlib = stdlib();
    Nnef {
        registries: vec![tract_nnef_registry(stdlib.clone()), tract_nnef::ops::tract_core(), extra],
        stdlib,
        resource_loaders: vec![
            GraphNnefLoader.into_boxed(),
            DatLoader.into_boxed(),
            GraphQuantLoader.into_boxed(),
            TypedModelLoader::new(false).into_boxed(),
        ],
        allow_extended_identifier_syntax: false,
        extern_all_constants: false,
    }
}

/// `tract_nnef::ops::tract_nnef()` over the given standard library.
fn tract_nnef_registry(mut stdlib: Vec<FragmentDef>) -> Registry {
    let mut registry = Registry::new("tract_nnef");
    let mut primitive = |registry: &mut Registry, id: &str, func: ToTract| {
        let pos = stdlib.iter().position(|f| f.decl.id.0 == id).expect("a primitive of NNEF's standard library");
        let decl = stdlib.remove(pos).decl;
        registry.register_primitive(id, &decl.parameters, &decl.results, func);
    };

    primitive(&mut registry, "external", deser::external);
    registry.register_dumper(ser::source);
    primitive(&mut registry, "variable", deser::variable);
    registry.register_dumper(ser::konst);

    primitive(&mut registry, "reshape", deser::reshape);
    primitive(&mut registry, "transpose", deser::transpose);

    primitive(&mut registry, "concat", deser::concat);
    registry.register_dumper(ser::concat);
    primitive(&mut registry, "slice", deser::slice);
    registry.register_dumper(ser::slice);

    primitive(&mut registry, "squeeze", deser::squeeze);
    primitive(&mut registry, "unsqueeze", deser::unsqueeze);
    registry.register_dumper(ser::axis_op);

    primitive(&mut registry, "tile", deser::tile);
    registry.register_dumper(ser::tile);
    registry.register_dumper(ser::dyn_tile);

    primitive(&mut registry, "pad", deser::pad);
    registry.register_dumper(ser::pad);

    primitive(&mut registry, "stack", deser::stack);
    primitive(&mut registry, "unstack", deser::unstack);

    primitive(&mut registry, "copy", deser::copy);

    registry.register_binary("add", &core_ops::math::Add {});
    registry.register_binary("sub", &core_ops::math::Sub {});
    registry.register_binary("mul", &core_ops::math::Mul {});
    registry.register_binary("div", &core_ops::math::Div {});
    registry.register_binary("pow", &core_ops::math::Pow {});

    registry.register_unit_element_wise("exp", &core_ops::math::Exp {});
    registry.register_unit_element_wise("log", &core_ops::math::Ln {});
    registry.register_unit_element_wise("sin", &core_ops::math::Sin {});
    registry.register_unit_element_wise("cos", &core_ops::math::Cos {});
    registry.register_unit_element_wise("abs", &core_ops::math::Abs {});
    registry.register_unit_element_wise("neg", &core_ops::math::Neg {});
    registry.register_unit_element_wise("sign", &core_ops::math::Sign {});
    registry.register_unit_element_wise("recip", &core_ops::math::Recip {});

    registry.register_unit_element_wise("tan", &core_ops::math::Tan {});
    registry.register_unit_element_wise("acos", &core_ops::math::Acos {});
    registry.register_unit_element_wise("asin", &core_ops::math::Asin {});
    registry.register_unit_element_wise("atan", &core_ops::math::Atan {});
    registry.register_unit_element_wise("cosh", &core_ops::math::Cosh {});
    registry.register_unit_element_wise("sinh", &core_ops::math::Sinh {});
    registry.register_unit_element_wise("acosh", &core_ops::math::Acosh {});
    registry.register_unit_element_wise("asinh", &core_ops::math::Asinh {});
    registry.register_unit_element_wise("atanh", &core_ops::math::Atanh {});

    registry.register_unit_element_wise("floor", &core_ops::math::Floor {});
    registry.register_unit_element_wise("ceil", &core_ops::math::Ceil {});
    registry.register_unit_element_wise("round", &core_ops::math::Round {});

    registry.register_unit_element_wise("square", &core_ops::math::Square {});
    registry.register_unit_element_wise("sqrt", &core_ops::math::Sqrt {});
    registry.register_unit_element_wise("rsqrt", &core_ops::math::Rsqrt {});

    registry.register_unit_element_wise("tanh", &core_ops::math::Tanh {});
    registry.register_unit_element_wise("sigmoid", &core_ops::nn::Sigmoid {});

    registry.register_unit_element_wise("not", &core_ops::logic::Not {});

    registry.register_unit_element_wise("neg", &core_ops::math::Neg {});

    registry.register_element_wise(
        "leaky_relu",
        TypeId::of::<core_ops::nn::LeakyRelu>(),
        Box::new(ser::leaky_relu),
        vec![TypeName::Scalar.tensor().named("x"), TypeName::Scalar.named("alpha")],
        deser::leaky_relu,
    );

    registry.register_binary("eq", &core_ops::logic::CompEq);
    registry.register_binary("ne", &core_ops::logic::CompNE);
    registry.register_binary("lt", &core_ops::logic::CompLT);
    registry.register_binary("gt", &core_ops::logic::CompGT);
    registry.register_binary("le", &core_ops::logic::CompLTE);
    registry.register_binary("ge", &core_ops::logic::CompGTE);

    registry.register_binary("and", &core_ops::logic::And {});
    registry.register_binary("or", &core_ops::logic::Or {});

    registry.register_binary("select", &core_ops::logic::Or {});
    registry.register_dumper(ser::select);
    primitive(&mut registry, "select", deser::select);

    registry.register_binary("min", &core_ops::math::Min {});
    registry.register_binary("max", &core_ops::math::Max {});

    primitive(&mut registry, "matmul", deser::matmul);
    //    registry.register_dumper(ser::matmul);

    primitive(&mut registry, "conv", deser::conv);
    registry.register_dumper(ser::conv);
    primitive(&mut registry, "deconv", deser::deconv);
    registry.register_dumper(ser::deconv);

    primitive(&mut registry, "sum_reduce", deser::reduce);
    primitive(&mut registry, "max_reduce", deser::reduce);
    primitive(&mut registry, "min_reduce", deser::reduce);
    primitive(&mut registry, "all_reduce", deser::reduce);
    primitive(&mut registry, "any_reduce", deser::reduce);
    primitive(&mut registry, "argmax_reduce", deser::reduce);
    primitive(&mut registry, "argmin_reduce", deser::reduce);
    registry.register_dumper(ser::reduce);

    primitive(&mut registry, "softmax", deser::softmax);
    registry.register_dumper(ser::softmax);

    primitive(&mut registry, "max_pool_with_index", deser::max_pool_with_index);
    registry.register_dumper(ser::max_pool);
    primitive(&mut registry, "box", deser::sum_pool);
    primitive(&mut registry, "debox", deser::debox);
    registry.register_dumper(ser::sum_pool);

    registry.register_dumper(ser::basic_matmul);

    for frag in stdlib {
        if frag.body.is_some() {
            registry.register_fragment(frag);
        }
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a registry holds, in a comparable form: ids, declarations and operators (by their
    /// `Debug`; the dumpers by the type they dump), sorted where tract keeps them in a hash map.
    fn contents(r: &Registry) -> Vec<String> {
        let mut fragments: Vec<String> = r.fragments.iter().map(|(id, f)| format!("fragment {id:?} {f:?}")).collect();
        let mut primitives: Vec<String> = r
            .primitives
            .iter()
            .map(|(id, p)| format!("primitive {id:?} {:?} {:?} {:?}", p.decl, p.docstrings, p.to_tract as usize))
            .collect();
        let mut dumpers: Vec<String> = r.from_tract.keys().map(|id| format!("dumper {id:?}")).collect();
        fragments.sort();
        primitives.sort();
        dumpers.sort();
        let mut all = vec![format!("{:?} {:?} {:?} {}", r.id, r.docstrings, r.aliases, r.extensions.len())];
        all.extend(fragments);
        all.extend(primitives);
        all.extend(dumpers);
        all.extend(r.unit_element_wise_ops.iter().map(|(id, op)| format!("unit {id:?} {op:?}")));
        all.extend(
            r.element_wise_ops
                .iter()
                .map(|(id, ty, _, params, to)| format!("element-wise {id:?} {ty:?} {params:?} {:?}", *to as usize)),
        );
        all.extend(r.binary_ops.iter().map(|(id, op)| format!("binary {id:?} {op:?}")));
        all
    }

    #[test]
    fn the_standard_library_is_read_here_as_tract_reads_it() {
        let ours = text::parse_fragments_fast(STDLIB).expect("the standard library was left to tract's parser");
        assert!(ours == tract_nnef::framework::stdlib(), "the standard library reads otherwise than tract's own copy");
    }

    #[test]
    fn the_registry_is_tracts() {
        assert_eq!(contents(&tract_nnef_registry(stdlib())), contents(&tract_nnef::ops::tract_nnef()));
    }

    #[test]
    fn the_framework_is_tracts_default() {
        let extra = || Registry::new("extra");
        let (ours, tracts) = (framework(extra()), tract_nnef::nnef().with_registry(extra()));
        assert!(ours.stdlib == tracts.stdlib);
        assert_eq!(
            ours.registries.iter().map(contents).collect::<Vec<_>>(),
            tracts.registries.iter().map(contents).collect::<Vec<_>>()
        );
        let loaders = |n: &Nnef| n.resource_loaders.iter().map(|l| l.name().to_string()).collect::<Vec<_>>();
        assert_eq!(loaders(&ours), loaders(&tracts));
        assert_eq!(
            (ours.allow_extended_identifier_syntax, ours.extern_all_constants),
            (tracts.allow_extended_identifier_syntax, tracts.extern_all_constants)
        );
    }
}
