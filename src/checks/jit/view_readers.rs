//! Slices read in place by fused reductions and by matmuls
//! (`jit/views.rs`, `jit/plan/matmul.rs`): the harness of `views.rs`.

use super::views::Case;
use crate::ir::{BinaryOp, DType, Op};

/// Fused reductions read forward views: a loss over `x[:, 1:] - x[:, :-1]`
/// per row (row mode), column sums of a row band (column mode): the
/// kernel's iteration is the copies', so the sums are bitwise theirs. A
/// stepped slice (the copy's rows run on `f32x4`, the view's do not) and a
/// whole-slice sum (the copy's rows collapse, the view's do not) are summed
/// otherwise, within tolerance, unless the view's short rows would make many
/// more partials than the copy; a reversed slice keeps its copy.
#[test]
fn reductions_read_forward_views() {
    for (r, c) in [(37, 41), (300, 301), (4, 5)] {
        let mut t = Case::new();
        let x = t.input_of(DType::F32, &[r, c], false);
        let right = t.slice(x, &[0, 1], &[r, c - 1], &[1, 1]);
        let left = t.slice(x, &[0, 0], &[r, c - 1], &[1, 1]);
        let d = t.binary(BinaryOp::Sub, right, left, &[r, c - 1]);
        let sq = t.binary(BinaryOp::Mul, d, d, &[r, c - 1]);
        let loss = t.sum(sq, &[1]);
        let band = t.slice(x, &[1, 0], &[r - 1, c], &[1, 1]);
        let cols = t.sum(band, &[0]);
        let stepped = t.slice(x, &[0, 1], &[r.div_ceil(2), c / 2], &[2, 2]);
        let rows = t.sum(stepped, &[1]);
        let inner = t.slice(x, &[0, 1], &[r, c - 1], &[1, 1]);
        let all = t.sum(inner, &[0, 1]);
        let rev = t.slice(x, &[0, c - 1], &[r, c], &[1, -1]);
        let back = t.sum(rev, &[1]);
        t.fetches = vec![loss, cols, rows, all, back];
        // The whole sum of a 37×40 view would make 37 partials (one per
        // row) against the copy's 6: it keeps the copy.
        let short = (r, c) == (37, 41);
        t.viewed = vec![right, left, band, stepped];
        t.stored = vec![rev];
        if short {
            t.stored.push(inner);
        } else {
            t.viewed.push(inner);
        }
        t.check_reduced(2);
        assert_eq!(t.views(), if short { 4 } else { 5 });
    }
}

/// Slices as matmul operands, read in place as bands of their source (rows
/// `ld` apart): left and right, row steps, a narrow `f32` product
/// (`kernels::narrow`), a transposed right operand copied block by block
/// (`transb`), `f64`; bitwise the interpreter's. A product too small for
/// gemm to sum in one order whatever the strides keeps the copy.
#[test]
fn matmul_operands_read_slices_in_place() {
    type Shape = (usize, usize, usize, DType);
    let cases: [Shape; 4] = [
        (40, 50, 30, DType::F32),
        (64, 40, 10, DType::F32),
        (130, 128, 140, DType::F32),
        (33, 21, 17, DType::F64),
    ];
    for (m, k, n, dtype) in cases {
        let mut t = Case::new();
        let x = t.input_of(dtype, &[2 * m + 3, k + n + 9], false);
        // Left: rows 1, 3, 5, ... of columns 4..4+k.
        let a = t.slice(x, &[1, 4], &[m, k], &[2, 1]);
        let w = t.input_of(dtype, &[k, n], false);
        let p = t.node(Op::MatMul, &[a, w], dtype, &[m, n]);
        // Right: rows 2..2+k of columns 5..5+n.
        let b = t.slice(x, &[2, 5], &[k, n], &[1, 1]);
        let v = t.input_of(dtype, &[m, k], false);
        let q = t.node(Op::MatMul, &[v, b], dtype, &[m, n]);
        // A transposed right operand with a band on the left.
        let wt = t.input_of(dtype, &[n, k], false);
        let tr = t.node(Op::Transpose { perm: vec![1, 0] }, &[wt], dtype, &[k, n]);
        let a2 = t.slice(x, &[0, 1], &[m, k], &[1, 1]);
        let r = t.node(Op::MatMul, &[a2, tr], dtype, &[m, n]);
        t.fetches = vec![p, q, r];
        t.viewed = vec![a, b, a2];
        t.check();
    }
    // Too small (m·n ≤ 256): the slice is written out.
    let mut t = Case::new();
    let x = t.input_of(DType::F32, &[9, 12], false);
    let a = t.slice(x, &[0, 2], &[8, 6], &[1, 1]);
    let w = t.input_of(DType::F32, &[6, 5], false);
    let p = t.node(Op::MatMul, &[a, w], DType::F32, &[8, 5]);
    t.fetches = vec![p];
    t.stored = vec![a];
    t.check();
}
