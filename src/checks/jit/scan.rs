//! Autodiff's `scan` run natively ([`crate::backend::jit::scan`]) against the
//! interpreter: both directions, float and integer `xs`, bit for bit, and no
//! pool growth from step to step.

use super::regions::{f32_ty, f32_values, region};
use crate::backend::jit::{compile, Options};
use crate::backend::StepInputs;
use crate::checks::autodiff::util::{placeholder, run_on_both, span};
use crate::ir::{DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp};
use std::collections::HashMap;

/// `scan(body, init, xs, captures)`, its type inferred.
fn scan(g: &mut Graph, inputs: &[NodeId], body: Graph, reverse: bool, carry: usize) -> NodeId {
    let op = Op::Scan {
        body: Box::new(body),
        reverse,
        carry,
    };
    let types: Vec<&TensorType> = inputs.iter().map(|&i| g.ty(i)).collect();
    let ty = crate::ir::infer::infer(&op, &types).expect("scan type");
    g.add(op, inputs.to_vec(), ty, span())
}

/// `[tanh(s * x + w) | s * x]`: state `[5]`, `x: [5]`, capture `w: [5]`.
fn float_scan(reverse: bool) -> (Graph, NodeId) {
    let mut g = Graph::new();
    let init = placeholder(&mut g, "init", f32_ty(&[5]));
    let xs = placeholder(&mut g, "xs", f32_ty(&[9, 5]));
    let w = placeholder(&mut g, "w", f32_ty(&[5]));
    let types = [f32_ty(&[5]), f32_ty(&[5]), f32_ty(&[5])];
    let body = region(&types, |e, q| {
        let sx = e.mul(q[0], q[1]);
        let pre = e.add2(sx, q[2]);
        let next = e.unary(UnaryOp::Tanh, pre);
        e.add(Op::Concat { axis: 0 }, vec![next, sx], f32_ty(&[10]))
    });
    let y = scan(&mut g, &[init, xs, w], body, reverse, 5);
    (g, y)
}

fn run_both_and_compare_bits(g: &Graph, y: NodeId, feeds: &HashMap<String, Tensor>) -> Vec<f64> {
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: feeds,
        variables: &variables,
    };
    let expected = run_on_both(g, &[y], &inputs).expect("both backends");
    let exe = compile(g, &[y], Options::checked()).expect("compile");
    assert_eq!(exe.region_count(), 1);
    let mut pooled = Vec::new();
    for _ in 0..4 {
        let actual = exe.run(&inputs).expect("jit").fetched;
        assert_eq!(super::bits(&expected[0]), super::bits(&actual[0]));
        exe.recycle(actual);
        pooled.push(exe.pooled_buffers());
    }
    assert!(
        pooled.windows(2).all(|w| w[0] == w[1]),
        "pooled: {pooled:?}"
    );
    expected[0].to_f64_vec()
}

#[test]
fn scan_in_both_directions_is_the_interpreters_bits() {
    let feeds: HashMap<String, Tensor> = [
        ("init", f32_values(&[5], 41)),
        ("xs", f32_values(&[9, 5], 42)),
        ("w", f32_values(&[5], 43)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let (g, y) = float_scan(false);
    let forward = run_both_and_compare_bits(&g, y, &feeds);
    let (g, y) = float_scan(true);
    let backward = run_both_and_compare_bits(&g, y, &feeds);
    assert_eq!(forward.len(), 5 + 9 * 5);
    // Row 0 is `init * xs[0]` going forward; going backward it is the state
    // after 8 steps times xs[0]: the directions differ.
    let (init, xs) = (feeds["init"].to_f64_vec(), feeds["xs"].to_f64_vec());
    for k in 0..5 {
        let row0 = (init[k] as f32 * xs[k] as f32) as f64;
        assert_eq!(forward[5 + k], row0);
    }
    assert_ne!(forward[5..10], backward[5..10]);
}

#[test]
fn scan_over_integer_steps() {
    // state' = state * 0.5 + w[t], output t as f32: xs is i32 [0, 1, 2, 3].
    let mut g = Graph::new();
    let init = placeholder(&mut g, "init", f32_ty(&[3]));
    let w = placeholder(&mut g, "w", f32_ty(&[4, 3]));
    let ts_ty = TensorType::new(DType::I32, vec![4]);
    let ts = Tensor::from_f64_vec(&ts_ty, vec![0.0, 1.0, 2.0, 3.0]).expect("ts");
    let ts = g.add(Op::Const(std::sync::Arc::new(ts)), vec![], ts_ty, span());
    let types = [
        f32_ty(&[3]),
        TensorType::scalar(DType::I32),
        f32_ty(&[4, 3]),
    ];
    let body = region(&types, |e, q| {
        let half = e.scale(q[0], 0.5);
        let row = e.add(Op::Index, vec![q[2], q[1]], f32_ty(&[3]));
        let next = e.add2(half, row);
        let t = e.add(Op::Cast(DType::F32), vec![q[1]], f32_ty(&[]));
        let t = e.add(Op::Reshape, vec![t], f32_ty(&[1]));
        e.add(Op::Concat { axis: 0 }, vec![next, t], f32_ty(&[4]))
    });
    let y = scan(&mut g, &[init, ts, w], body, true, 3);
    let feeds: HashMap<String, Tensor> = [
        ("init", f32_values(&[3], 51)),
        ("w", f32_values(&[4, 3], 52)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let values = run_both_and_compare_bits(&g, y, &feeds);
    // Row t holds t whatever the direction.
    assert_eq!(values[3..], [0.0, 1.0, 2.0, 3.0]);
}
