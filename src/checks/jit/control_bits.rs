//! Loops whose results must be the interpreter's bits (transcendentals in a
//! fold body) and whose buffers must not grow from step to step.

use super::regions::{f32_ty, f32_values, fold, region};
use crate::backend::jit::{compile, Options};
use crate::backend::StepInputs;
use crate::checks::autodiff::util::placeholder;
use crate::ir::{Graph, NodeId, Tensor, UnaryOp};
use std::collections::HashMap;

#[test]
fn transcendentals_in_a_loop_are_the_interpreters_bits() {
    // acc = tanh(acc * x) + sigmoid(x) + exp(-|acc|) * log(sigmoid(x)) over 30
    // steps: in a region the JIT calls the interpreter's functions instead of
    // its inline polynomials (`Group::exact`), so nothing drifts.
    let mut g = Graph::new();
    let init = placeholder(&mut g, "init", f32_ty(&[64]));
    let xs = placeholder(&mut g, "xs", f32_ty(&[30, 64]));
    let types = [f32_ty(&[64]), f32_ty(&[64])];
    let body = region(&types, |e, q| {
        let ax = e.mul(q[0], q[1]);
        let t = e.unary(UnaryOp::Tanh, ax);
        let s = e.unary(UnaryOp::Sigmoid, q[1]);
        let a = e.unary(UnaryOp::Abs, q[0]);
        let na = e.unary(UnaryOp::Neg, a);
        let ex = e.unary(UnaryOp::Exp, na);
        let l = e.unary(UnaryOp::Log, s);
        let el = e.mul(ex, l);
        let ts = e.add2(t, s);
        e.add2(ts, el)
    });
    let y = fold(&mut g, init, xs, &[], body);
    let feeds = [
        ("init", f32_values(&[64], 21)),
        ("xs", f32_values(&[30, 64], 22)),
    ];
    assert_same_bits(&g, y, &feeds);
}

/// `y` on the JIT (one region) is bitwise the interpreter's.
#[track_caller]
pub(super) fn assert_same_bits(g: &Graph, y: NodeId, feeds: &[(&str, Tensor)]) {
    let placeholders = feed_map(feeds);
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    };
    let expected = crate::backend::interp::run_step(g, &[y], &inputs).expect("interp");
    let exe = compile(g, &[y], Options::checked()).expect("compile");
    assert_eq!(exe.region_count(), 1);
    let actual = exe.run(&inputs).expect("jit");
    assert!(super::bits(&expected.fetched[0]) == super::bits(&actual.fetched[0]));
}

#[test]
fn pools_do_not_grow_from_step_to_step() {
    // tanh(acc + sum(x, axis 1)) with 64 terms per output: a fused reduction
    // inside the body (its output goes back to the pool after its last use)
    // and the body's result ping-ponged; and the same at the top level.
    let mut g = Graph::new();
    let init = placeholder(&mut g, "init", f32_ty(&[4]));
    let xs = placeholder(&mut g, "xs", f32_ty(&[12, 4, 64]));
    let types = [f32_ty(&[4]), f32_ty(&[4, 64])];
    let body = region(&types, |e, q| {
        let s = e.sum(q[1], 1);
        let t = e.add2(q[0], s);
        e.unary(UnaryOp::Tanh, t)
    });
    let y = fold(&mut g, init, xs, &[], body);
    let top = {
        let x = placeholder(&mut g, "x", f32_ty(&[4, 64]));
        let mut e = super::regions::Emit(&mut g);
        let s = e.sum(x, 1);
        e.unary(UnaryOp::Neg, s)
    };
    let feeds = [
        ("init", f32_values(&[4], 31)),
        ("xs", f32_values(&[12, 4, 64], 32)),
        ("x", f32_values(&[4, 64], 33)),
    ];
    let placeholders = feed_map(&feeds);
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    };
    let exe = compile(&g, &[y, top], Options::checked()).expect("compile");
    assert_eq!(exe.region_count(), 1);
    let mut counts = Vec::new();
    for _ in 0..4 {
        let result = exe.run(&inputs).expect("run");
        exe.recycle(result.fetched);
        counts.push(exe.pooled_buffers());
    }
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "pooled: {counts:?}"
    );
}

/// The placeholders' values by name.
pub(super) fn feed_map(feeds: &[(&str, Tensor)]) -> HashMap<String, Tensor> {
    feeds
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect()
}
