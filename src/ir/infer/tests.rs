// Test inputs are built inline; cloning into slices keeps them readable.
#![allow(clippy::cloned_ref_to_slice_refs)]

use super::*;
use crate::diag::Span;
use crate::ir::graph::Graph;
use crate::ir::tensor::Tensor;
use std::sync::Arc;

fn t(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType::new(dtype, dims.to_vec())
}
fn f32t(dims: &[usize]) -> TensorType {
    t(DType::F32, dims)
}
fn ok(op: Op, inputs: &[TensorType]) -> TensorType {
    let refs: Vec<&TensorType> = inputs.iter().collect();
    match infer(&op, &refs) {
        Ok(ty) => ty,
        Err(e) => panic!("{op:?}: unexpected error {e}"),
    }
}
fn err(op: Op, inputs: &[TensorType]) -> String {
    let refs: Vec<&TensorType> = inputs.iter().collect();
    match infer(&op, &refs) {
        Ok(ty) => panic!("{op:?}: expected an error, got {ty}"),
        Err(e) => e,
    }
}

#[test]
fn binary_broadcasts_like_numpy() {
    let add = Op::Binary(BinaryOp::Add);
    let cases: [(&[usize], &[usize], &[usize]); 3] = [
        (&[64, 10], &[10], &[64, 10]),
        (&[4, 1, 3], &[5, 1], &[4, 5, 3]),
        (&[0, 3], &[1, 3], &[0, 3]),
    ];
    for (a, b, out) in cases {
        assert_eq!(ok(add.clone(), &[f32t(a), f32t(b)]), f32t(out));
    }
    assert_eq!(
        err(add, &[f32t(&[64, 10]), f32t(&[3, 10])]),
        "+: cannot broadcast f32[64, 10] and f32[3, 10]"
    );
}

#[test]
fn binary_dtype_rules() {
    let e = err(
        Op::Binary(BinaryOp::Add),
        &[f32t(&[3]), t(DType::F64, &[3])],
    );
    assert!(e.contains("f32[3] and f64[3]") && e.contains("cast"), "{e}");
    let i = t(DType::I32, &[3]);
    assert_eq!(ok(Op::Binary(BinaryOp::Mul), &[i.clone(), i.clone()]), i);
    // i32 division truncates (the interpreter's `ir::scalar` rule).
    assert_eq!(ok(Op::Binary(BinaryOp::Div), &[i.clone(), i.clone()]), i);
    assert_eq!(
        ok(Op::Binary(BinaryOp::Lt), &[f32t(&[3]), f32t(&[])]),
        t(DType::Bool, &[3])
    );
    let b = t(DType::Bool, &[2]);
    assert_eq!(ok(Op::Binary(BinaryOp::And), &[b.clone(), b.clone()]), b);
    assert_eq!(ok(Op::Binary(BinaryOp::Eq), &[b.clone(), b.clone()]), b);
    assert!(err(Op::Binary(BinaryOp::Lt), &[b.clone(), b.clone()]).contains("bool"));
    assert!(err(Op::Binary(BinaryOp::Add), &[b.clone(), b.clone()]).contains("numeric"));
    assert_eq!(
        err(Op::Binary(BinaryOp::Or), &[f32t(&[]), f32t(&[])]),
        "||: expects bool operands, got f32[] and f32[]"
    );
    assert_eq!(
        ok(Op::Binary(BinaryOp::Maximum), &[i.clone(), i.clone()]),
        i
    );
}

#[test]
fn unary_dtype_rules() {
    let i = t(DType::I32, &[3]);
    assert!(err(Op::Unary(UnaryOp::Exp), &[i.clone()]).contains("exp: expects a float tensor"));
    assert_eq!(ok(Op::Unary(UnaryOp::Neg), &[i.clone()]), i);
    assert_eq!(ok(Op::Unary(UnaryOp::Relu), &[i.clone()]), i);
    assert_eq!(ok(Op::Unary(UnaryOp::Tanh), &[f32t(&[2])]), f32t(&[2]));
    assert_eq!(
        ok(Op::Unary(UnaryOp::Not), &[t(DType::Bool, &[])]),
        t(DType::Bool, &[])
    );
    assert!(err(Op::Unary(UnaryOp::Not), &[f32t(&[])]).contains("bool"));
    assert!(err(Op::Unary(UnaryOp::Neg), &[t(DType::Bool, &[])]).contains("numeric"));
}

#[test]
fn select_cast_stop_gradient() {
    let c = t(DType::Bool, &[4, 1]);
    assert_eq!(
        ok(Op::Select, &[c.clone(), f32t(&[3]), f32t(&[])]),
        f32t(&[4, 3])
    );
    assert!(err(Op::Select, &[f32t(&[]), f32t(&[]), f32t(&[])]).contains("bool"));
    assert!(err(Op::Select, &[c.clone(), f32t(&[]), t(DType::F64, &[])]).contains("dtypes"));
    assert!(err(Op::Select, &[t(DType::Bool, &[5]), f32t(&[3]), f32t(&[3])]).contains("where"));
    assert_eq!(
        ok(Op::Cast(DType::I32), &[f32t(&[2, 2])]),
        t(DType::I32, &[2, 2])
    );
    assert_eq!(ok(Op::StopGradient, &[f32t(&[2])]), f32t(&[2]));
}

#[test]
fn reductions_and_argmax() {
    let x = f32t(&[2, 3, 4]);
    let r = |op, axes: &[usize], keepdims| Op::Reduce {
        op,
        axes: axes.to_vec(),
        keepdims,
    };
    let cases: [(ReduceOp, &[usize], bool, &[usize]); 3] = [
        (ReduceOp::Sum, &[1], false, &[2, 4]),
        (ReduceOp::Max, &[0, 2], true, &[1, 3, 1]),
        (ReduceOp::Mean, &[0, 1, 2], false, &[]),
    ];
    for (op, axes, keepdims, out) in cases {
        assert_eq!(ok(r(op, axes, keepdims), &[x.clone()]), f32t(out));
    }
    assert!(err(r(ReduceOp::Sum, &[3], false), &[x.clone()]).contains("axis 3 is out of range"));
    assert!(err(r(ReduceOp::Sum, &[1, 1], false), &[x.clone()]).contains("distinct"));
    assert!(err(r(ReduceOp::Mean, &[0], false), &[t(DType::I32, &[3])]).contains("float"));
    assert_eq!(
        ok(r(ReduceOp::Sum, &[0], false), &[t(DType::I32, &[3])]),
        t(DType::I32, &[])
    );
    assert_eq!(
        ok(Op::ArgMax { axis: 1 }, &[x.clone()]),
        t(DType::I32, &[2, 4])
    );
    assert!(err(Op::ArgMax { axis: 3 }, &[x]).contains("out of range"));
    assert!(err(Op::ArgMax { axis: 0 }, &[f32t(&[0])]).contains("empty"));
}

#[test]
fn reshape_and_broadcast() {
    let x = f32t(&[4, 6]);
    assert_eq!(infer_reshape(&x, &[-1, 3]), Ok(f32t(&[8, 3])));
    assert_eq!(infer_reshape(&x, &[24]), Ok(f32t(&[24])));
    assert_eq!(
        infer_reshape(&x, &[5, 5]),
        Err("reshape: element count differs: f32[4, 6] has 24 elements, [5, 5] has 25".into())
    );
    assert!(infer_reshape(&x, &[-1, -1]).unwrap_err().contains("one -1"));
    assert!(infer_reshape(&x, &[-1, 5])
        .unwrap_err()
        .contains("cannot reshape"));
    assert!(infer_reshape(&x, &[-2, 12])
        .unwrap_err()
        .contains("negative"));
    assert!(infer_reshape(&f32t(&[0]), &[-1, 0]).is_err());
    assert_eq!(
        infer_broadcast(&f32t(&[3]), &Shape(vec![2, 3])),
        Ok(f32t(&[2, 3]))
    );
    assert!(infer_broadcast(&f32t(&[2, 3]), &Shape(vec![3])).is_err());
    assert!(infer(&Op::Reshape, &[&x]).is_err());
}

#[test]
fn movement_ops() {
    let x = f32t(&[2, 3, 4]);
    assert_eq!(
        ok(
            Op::Transpose {
                perm: vec![2, 0, 1]
            },
            &[x.clone()]
        ),
        f32t(&[4, 2, 3])
    );
    assert!(err(
        Op::Transpose {
            perm: vec![0, 0, 1]
        },
        &[x.clone()]
    )
    .contains("not a permutation"));
    assert!(err(Op::Transpose { perm: vec![0, 1] }, &[x.clone()]).contains("rank 3"));
    assert_eq!(
        ok(Op::Concat { axis: 1 }, &[f32t(&[2, 3]), f32t(&[2, 4])]),
        f32t(&[2, 7])
    );
    assert_eq!(
        err(Op::Concat { axis: 0 }, &[f32t(&[2, 3]), f32t(&[2, 4])]),
        "concat: shapes differ outside axis 0: f32[2, 3] and f32[2, 4]"
    );
    assert!(err(Op::Concat { axis: 0 }, &[]).contains("at least one"));
    let i = t(DType::I32, &[]);
    assert_eq!(ok(Op::Index, &[x.clone(), i.clone()]), f32t(&[3, 4]));
    assert!(err(Op::Index, &[f32t(&[]), i.clone()]).contains("scalar"));
    assert!(err(Op::Index, &[x.clone(), t(DType::I32, &[1])]).contains("i32[]"));
    let pad = Op::Pad {
        pads: vec![[1, 1], [0, 2]],
        value: 0.0,
    };
    assert_eq!(ok(pad.clone(), &[f32t(&[2, 3])]), f32t(&[4, 5]));
    assert!(err(pad, &[x.clone()]).contains("rank 3"));
    assert_eq!(
        ok(Op::OneHot { depth: 10 }, &[t(DType::I32, &[64])]),
        f32t(&[64, 10])
    );
    assert!(err(Op::OneHot { depth: 10 }, &[f32t(&[64])]).contains("i32"));
}

#[test]
fn matmul_rules() {
    assert_eq!(
        ok(Op::MatMul, &[f32t(&[64, 3072]), f32t(&[3072, 42])]),
        f32t(&[64, 42])
    );
    assert_eq!(
        err(Op::MatMul, &[f32t(&[64, 3072]), f32t(&[3027, 42])]),
        "matmul: inner dimensions differ: f32[64, 3072] @ f32[3027, 42]"
    );
    assert_eq!(
        ok(Op::MatMul, &[f32t(&[5, 1, 2, 3]), f32t(&[4, 3, 7])]),
        f32t(&[5, 4, 2, 7])
    );
    assert!(err(Op::MatMul, &[f32t(&[2, 2, 3]), f32t(&[3, 3, 7])]).contains("batch"));
    assert!(err(Op::MatMul, &[f32t(&[3]), f32t(&[3, 2])]).contains("rank 2"));
    assert!(err(
        Op::MatMul,
        &[t(DType::I32, &[2, 2]), t(DType::I32, &[2, 2])]
    )
    .contains("float"));
}

#[test]
fn conv_and_pool() {
    let conv = |s: [usize; 2], p: [usize; 4]| Op::Conv2d {
        strides: s,
        pads: p,
    };
    let x = f32t(&[64, 36, 36, 3]);
    let w = f32t(&[5, 5, 3, 6]);
    assert_eq!(
        ok(conv([1, 1], [0; 4]), &[x.clone(), w.clone()]),
        f32t(&[64, 32, 32, 6])
    );
    assert_eq!(
        ok(
            conv([2, 2], [1, 2, 1, 2]),
            &[f32t(&[1, 8, 8, 3]), w.clone()]
        ),
        f32t(&[1, 4, 4, 6])
    );
    let e = err(
        conv([1, 1], [0; 4]),
        &[f32t(&[1, 8, 8, 3]), f32t(&[3, 3, 4, 8])],
    );
    assert!(
        e.contains("input channels differ") && e.contains("f32[3, 3, 4, 8]"),
        "{e}"
    );
    assert!(err(conv([1, 1], [0; 4]), &[f32t(&[1, 2, 2, 3]), w.clone()]).contains("larger"));
    assert!(err(conv([0, 1], [0; 4]), &[x.clone(), w.clone()]).contains("positive"));
    assert!(err(conv([1, 1], [0; 4]), &[f32t(&[8, 8, 3]), w]).contains("NHWC"));
    assert_eq!(same_pads(32, 5, 1), [2, 2]);
    assert_eq!(same_pads(7, 3, 2), [1, 1]);
    assert_eq!(same_pads(8, 3, 2), [0, 1]);
    assert_eq!(same_pads(2, 5, 3), [1, 2]);
    let pool = Op::MaxPool2d {
        size: [2, 2],
        strides: [2, 2],
        pads: [0; 4],
    };
    assert_eq!(
        ok(pool.clone(), &[f32t(&[1, 4, 5, 3])]),
        f32t(&[1, 2, 2, 3])
    );
    assert!(err(pool, &[f32t(&[4, 4])]).contains("rank 4"));
}

#[test]
fn network_losses() {
    assert_eq!(ok(Op::Softmax { axis: 1 }, &[f32t(&[2, 3])]), f32t(&[2, 3]));
    assert!(err(Op::LogSoftmax { axis: 2 }, &[f32t(&[2, 3])]).contains("out of range"));
    assert!(err(Op::Softmax { axis: 0 }, &[t(DType::I32, &[3])]).contains("float"));
    let sce = Op::SoftmaxCrossEntropy;
    assert_eq!(ok(sce.clone(), &[f32t(&[4, 3]), f32t(&[4, 3])]), f32t(&[]));
    assert!(err(sce.clone(), &[f32t(&[4, 3]), f32t(&[4, 2])]).contains("f32[4, 3] and f32[4, 2]"));
    assert!(err(sce, &[f32t(&[3]), f32t(&[3])]).contains("[N, C]"));
    let mse = Op::MeanSquaredError;
    assert_eq!(
        ok(mse.clone(), &[t(DType::F64, &[4]), t(DType::F64, &[4])]),
        t(DType::F64, &[])
    );
    assert!(err(mse, &[f32t(&[4]), f32t(&[1])]).contains("same type"));
}

fn region(params: Vec<TensorType>, result: TensorType) -> Box<Graph> {
    let mut g = Graph::region(params);
    let c = Tensor::full(&result, 0.0);
    let id = g.add(Op::Const(Arc::new(c)), vec![], result, Span::default());
    g.results.push(id);
    Box::new(g)
}

#[test]
fn control_and_state() {
    let cond = Op::Cond {
        then_body: region(vec![f32t(&[3])], f32t(&[2])),
        else_body: region(vec![f32t(&[3])], f32t(&[2])),
    };
    let b = t(DType::Bool, &[]);
    assert_eq!(ok(cond.clone(), &[b.clone(), f32t(&[3])]), f32t(&[2]));
    assert!(err(cond.clone(), &[f32t(&[]), f32t(&[3])]).contains("bool[]"));
    assert!(err(cond, &[b.clone()]).contains("captures"));
    let fold = Op::Fold {
        body: region(vec![f32t(&[2]), f32t(&[4]), t(DType::I32, &[])], f32t(&[2])),
    };
    let init = f32t(&[2]);
    assert_eq!(
        ok(
            fold.clone(),
            &[init.clone(), f32t(&[0, 4]), t(DType::I32, &[])]
        ),
        init
    );
    assert!(err(
        fold.clone(),
        &[init.clone(), f32t(&[5, 3]), t(DType::I32, &[])]
    )
    .contains("parameter 1"));
    assert!(err(fold, &[init, f32t(&[]), t(DType::I32, &[])]).contains("rank"));
    assert_eq!(
        ok(Op::Assign { var: "w".into() }, &[f32t(&[3])]),
        f32t(&[3])
    );
    assert_eq!(ok(Op::Group, &[f32t(&[3]), f32t(&[])]), b);
}

#[test]
fn huge_tensors_are_errors() {
    let e = err(
        Op::Binary(BinaryOp::Add),
        &[f32t(&[100000, 100000, 1]), f32t(&[1, 1, 100000])],
    );
    assert!(
        e.starts_with("tensor too large: f32[100000, 100000, 100000]"),
        "{e}"
    );
    assert!(check_size(&f32t(&[usize::MAX, 2])).is_err());
    assert!(check_size(&f32t(&[1 << 31])).is_ok());
    assert!(check_size(&f32t(&[(1 << 31) + 1])).is_err());
    assert!(infer_reshape(&f32t(&[0]), &[i64::MAX, i64::MAX, 0]).is_err());
}
