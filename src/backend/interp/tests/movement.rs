//! Movement ops, checked by hand (NumPy cases are in `fixtures`).

use super::*;
use crate::diag::DiagKind;

fn unary_op(x: Tensor, op: Op, out: TensorType) -> Result<Tensor, Diag> {
    eval_op(op, vec![x], out)
}

fn index(x: Tensor, i: i32, out: &[usize]) -> Result<Tensor, Diag> {
    let mut g = Graph::new();
    let dtype = x.dtype();
    let a = konst(&mut g, x);
    let i = konst(&mut g, i32t(&[], &[i]));
    let y = add(&mut g, Op::Index, &[a, i], ty(dtype, out));
    run_with(&g, &[y], &[], &[]).map(|mut r| r.fetched.remove(0))
}

#[test]
fn reshape_row_major() {
    let x = i32t(&[2, 3], &[1, 2, 3, 4, 5, 6]);
    let y = unary_op(x.clone(), Op::Reshape, ty(DType::I32, &[3, 1, 2])).unwrap();
    assert_exact(&y, &i32t(&[3, 1, 2], &[1, 2, 3, 4, 5, 6]));
    let z = unary_op(f32t(&[0, 3], &[]), Op::Reshape, ty(DType::F32, &[3, 0, 7])).unwrap();
    assert_exact(&z, &f32t(&[3, 0, 7], &[]));
    let s = unary_op(f32t(&[1, 1], &[5.0]), Op::Reshape, ty(DType::F32, &[])).unwrap();
    assert_exact(&s, &f32t(&[], &[5.0]));
    let bad = unary_op(x, Op::Reshape, ty(DType::I32, &[4])).unwrap_err();
    assert_eq!(bad.kind, DiagKind::Internal);
}

#[test]
fn transpose_by_hand() {
    let x = i32t(&[2, 3], &[1, 2, 3, 4, 5, 6]);
    let perm = Op::Transpose { perm: vec![1, 0] };
    let y = unary_op(x.clone(), perm, ty(DType::I32, &[3, 2])).unwrap();
    assert_exact(&y, &i32t(&[3, 2], &[1, 4, 2, 5, 3, 6]));
    let bad = Op::Transpose { perm: vec![0, 0] };
    assert_eq!(
        unary_op(x, bad, ty(DType::I32, &[2, 2])).unwrap_err().kind,
        DiagKind::Internal
    );
    let e = Op::Transpose { perm: vec![1, 0] };
    let z = unary_op(boolt(&[0, 2], &[]), e, ty(DType::Bool, &[2, 0])).unwrap();
    assert_exact(&z, &boolt(&[2, 0], &[]));
}

#[test]
fn transpose_across_tile_edges() {
    // 37 x 70: neither side is a multiple of the 32-element tile.
    let (rows, cols) = (37, 70);
    let values: Vec<i32> = (0..(rows * cols) as i32).collect();
    let perm = Op::Transpose { perm: vec![1, 0] };
    let y = unary_op(
        i32t(&[rows, cols], &values),
        perm,
        ty(DType::I32, &[cols, rows]),
    )
    .unwrap();
    let want: Vec<i32> = (0..cols)
        .flat_map(|c| (0..rows).map(move |r| (r * cols + c) as i32))
        .collect();
    assert_exact(&y, &i32t(&[cols, rows], &want));
}

#[test]
fn concat_by_hand_and_with_empty_parts() {
    let mut g = Graph::new();
    let a = konst(&mut g, i32t(&[1, 2], &[1, 2]));
    let b = konst(&mut g, i32t(&[0, 2], &[]));
    let c = konst(&mut g, i32t(&[2, 2], &[3, 4, 5, 6]));
    let y = add(
        &mut g,
        Op::Concat { axis: 0 },
        &[a, b, c],
        ty(DType::I32, &[3, 2]),
    );
    assert_exact(&run1(&g, y), &i32t(&[3, 2], &[1, 2, 3, 4, 5, 6]));
    let bad = add(
        &mut g,
        Op::Concat { axis: 1 },
        &[a, c],
        ty(DType::I32, &[1, 4]),
    );
    assert_eq!(run_err(&g, bad).kind, DiagKind::Internal);
}

#[test]
fn index_positive_and_negative() {
    let x = f32t(&[5, 2], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    for (i, row) in [
        (0, [0.0, 1.0]),
        (4, [8.0, 9.0]),
        (-1, [8.0, 9.0]),
        (-5, [0.0, 1.0]),
    ] {
        assert_exact(&index(x.clone(), i, &[2]).unwrap(), &f32t(&[2], &row));
    }
    let v = i32t(&[3], &[7, 8, 9]);
    assert_exact(&index(v, 1, &[]).unwrap(), &i32t(&[], &[8]));
}

#[test]
fn index_out_of_range_is_a_spanned_error() {
    let x = f32t(&[5], &[0.0; 5]);
    let err = index(x.clone(), 7, &[]).unwrap_err();
    assert_eq!(err.kind, DiagKind::Error);
    assert_eq!(err.message, "index 7 is out of range for axis 0 of size 5");
    assert_eq!(err.span, Some(span()));
    let err = index(x, -6, &[]).unwrap_err();
    assert_eq!(err.message, "index -6 is out of range for axis 0 of size 5");
    let err = index(f32t(&[0, 3], &[]), 0, &[3]).unwrap_err();
    assert_eq!(err.message, "index 0 is out of range for axis 0 of size 0");
    let err = index(f32t(&[2], &[1.0, 2.0]), i32::MIN, &[]).unwrap_err();
    assert_eq!(err.kind, DiagKind::Error);
}

#[test]
fn pad_by_hand() {
    let pad = |pads, value| Op::Pad { pads, value };
    let x = i32t(&[1, 2], &[1, 2]);
    let y = unary_op(x, pad(vec![[1, 0], [2, 1]], 9.0), ty(DType::I32, &[2, 5])).unwrap();
    assert_exact(&y, &i32t(&[2, 5], &[9, 9, 9, 9, 9, 9, 9, 1, 2, 9]));
    let b = unary_op(
        boolt(&[1], &[false]),
        pad(vec![[1, 1]], 1.0),
        ty(DType::Bool, &[3]),
    )
    .unwrap();
    assert_exact(&b, &boolt(&[3], &[true, false, true]));
    let e = unary_op(
        f32t(&[0, 1], &[]),
        pad(vec![[0, 0], [1, 2]], 0.5),
        ty(DType::F32, &[0, 4]),
    )
    .unwrap();
    assert_exact(&e, &f32t(&[0, 4], &[]));
    let e = unary_op(
        f64t(&[0], &[]),
        pad(vec![[2, 1]], -1.0),
        ty(DType::F64, &[3]),
    )
    .unwrap();
    assert_exact(&e, &f64t(&[3], &[-1.0; 3]));
}

#[test]
fn one_hot_out_of_range_rows_are_zero() {
    let labels = i32t(&[2, 2], &[0, 2, -1, 3]);
    let y = unary_op(
        labels.clone(),
        Op::OneHot { depth: 3 },
        ty(DType::F32, &[2, 2, 3]),
    )
    .unwrap();
    let expected = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    assert_exact(&y, &f32t(&[2, 2, 3], &expected));
    let z = unary_op(labels, Op::OneHot { depth: 0 }, ty(DType::F64, &[2, 2, 0])).unwrap();
    assert_exact(&z, &f64t(&[2, 2, 0], &[]));
    let s = unary_op(
        i32t(&[], &[1]),
        Op::OneHot { depth: 2 },
        ty(DType::F32, &[2]),
    )
    .unwrap();
    assert_exact(&s, &f32t(&[2], &[0.0, 1.0]));
}
