//! Ops checked against NumPy (`scripts/gen_interp_fixtures.py`, checked-in `.npy`
//! files in `tests/fixtures/interp/`).

use super::*;
use crate::ir::npy::read_npy;
use crate::ir::ReduceOp;
use std::path::Path;

fn fixture(name: &str) -> Tensor {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/interp")
        .join(format!("{name}.npy"));
    read_npy(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn ints(name: &str) -> Vec<usize> {
    fixture(name)
        .to_f64_vec()
        .iter()
        .map(|&v| v as usize)
        .collect()
}

/// Builds `op(inputs...)` typed like `expected`, runs it, compares.
fn check(op: Op, inputs: Vec<Tensor>, expected: &Tensor, tol: f64) {
    assert_close(&eval_op(op, inputs, expected.ty()).unwrap(), expected, tol);
}

#[test]
fn conv2d_matches_numpy() {
    for (case, tol) in [
        ("valid_s1_c1", 1e-5),
        ("same_s2_c3", 1e-5),
        ("valid_s2_c5", 1e-5),
        ("same_s21_c2", 1e-5),
        ("same_s1_o17_f64", 1e-12),
    ] {
        let meta = ints(&format!("conv_{case}_meta"));
        let op = Op::Conv2d {
            strides: [meta[0], meta[1]],
            pads: [meta[2], meta[3], meta[4], meta[5]],
        };
        let x = fixture(&format!("conv_{case}_x"));
        let w = fixture(&format!("conv_{case}_w"));
        check(op, vec![x, w], &fixture(&format!("conv_{case}_y")), tol);
    }
}

#[test]
fn max_pool2d_matches_numpy() {
    for case in ["2x2_s2", "3x3_s12"] {
        let meta = ints(&format!("pool_{case}_meta"));
        let op = Op::MaxPool2d {
            size: [meta[0], meta[1]],
            strides: [meta[2], meta[3]],
            pads: [0; 4],
        };
        let x = fixture(&format!("pool_{case}_x"));
        check(op, vec![x], &fixture(&format!("pool_{case}_y")), 0.0);
    }
}

#[test]
fn softmax_and_log_softmax_match_numpy() {
    for (case, tol) in [("a", 1e-6), ("b", 1e-14)] {
        let x = fixture(&format!("softmax_{case}_x"));
        let y = fixture(&format!("softmax_{case}_y"));
        check(Op::Softmax { axis: 1 }, vec![x.clone()], &y, tol);
        let y = fixture(&format!("log_softmax_{case}_y"));
        check(Op::LogSoftmax { axis: 1 }, vec![x], &y, tol);
    }
}

#[test]
fn losses_match_numpy() {
    let logits = fixture("xent_logits");
    let labels = fixture("xent_labels");
    check(
        Op::SoftmaxCrossEntropy,
        vec![logits, labels],
        &fixture("xent_y"),
        1e-6,
    );
    let pred = fixture("mse_pred");
    let target = fixture("mse_target");
    check(
        Op::MeanSquaredError,
        vec![pred, target],
        &fixture("mse_y"),
        1e-6,
    );
}

#[test]
fn batched_matmul_matches_numpy() {
    let (a, b) = (fixture("matmul_a_a"), fixture("matmul_a_b"));
    check(Op::MatMul, vec![a, b], &fixture("matmul_a_y"), 1e-5);
    let (a, b) = (fixture("matmul_b_a"), fixture("matmul_b_b"));
    check(Op::MatMul, vec![a, b], &fixture("matmul_b_y"), 1e-12);
}

#[test]
fn movement_matches_numpy() {
    let op = Op::Pad {
        pads: vec![[1, 2], [0, 3]],
        value: 1.5,
    };
    check(op, vec![fixture("pad_a_x")], &fixture("pad_a_y"), 0.0);
    let op = Op::Pad {
        pads: vec![[0, 1], [2, 0], [1, 1]],
        value: -7.0,
    };
    check(op, vec![fixture("pad_b_x")], &fixture("pad_b_y"), 0.0);
    let op = Op::Transpose {
        perm: vec![2, 0, 1],
    };
    check(
        op,
        vec![fixture("transpose_x")],
        &fixture("transpose_y"),
        0.0,
    );
    let parts = (0..3).map(|k| fixture(&format!("concat_x{k}"))).collect();
    check(Op::Concat { axis: 1 }, parts, &fixture("concat_y"), 0.0);
}

#[test]
fn reductions_match_numpy() {
    let x = fixture("reduce_x");
    let cases = [
        (ReduceOp::Sum, vec![0, 2], true, "reduce_sum_02_keep", 1e-6),
        (ReduceOp::Mean, vec![1], false, "reduce_mean_1", 1e-6),
        (ReduceOp::Max, vec![0, 1, 2], false, "reduce_max_all", 0.0),
        (ReduceOp::Min, vec![2], true, "reduce_min_2_keep", 0.0),
        (ReduceOp::Sum, vec![1, 2], false, "reduce_sum_12", 1e-6),
    ];
    for (op, axes, keepdims, name, tol) in cases {
        let op = Op::Reduce { op, axes, keepdims };
        check(op, vec![x.clone()], &fixture(name), tol);
    }
    check(Op::ArgMax { axis: 1 }, vec![x], &fixture("argmax_1"), 0.0);
}
