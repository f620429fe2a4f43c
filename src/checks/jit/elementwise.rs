//! Fused elementwise kernels vs the interpreter: every unary and binary op on
//! every dtype the language allows, casts, `where`, broadcasting, chains, and
//! sizes that are not multiples of the vector width (1, 3, 17, 1023, 0).

use super::{add, agree, konst, values};
use crate::ir::scalar::{binary_supported, unary_supported};
use crate::ir::{BinaryOp, DType, Graph, Op, Tensor, UnaryOp};

const DTYPES: [DType; 4] = [DType::F32, DType::F64, DType::I32, DType::Bool];
const SIZES: [&[usize]; 7] = [&[], &[1], &[3], &[17], &[1023], &[0], &[3, 0, 2]];
const UNARY: [UnaryOp; 11] = crate::backend::jit::helpers::UNARY_OPS;

fn binary_ops() -> Vec<BinaryOp> {
    crate::backend::jit::helpers::BINARY_OPS.to_vec()
}

#[test]
fn every_unary_op_on_every_dtype_and_size() {
    for op in UNARY {
        for dtype in DTYPES.into_iter().filter(|&d| unary_supported(op, d)) {
            for dims in SIZES {
                let mut g = Graph::new();
                let x = konst(&mut g, values(dtype, dims, 1, true));
                let y = add(&mut g, Op::Unary(op), &[x], dtype, dims);
                let (fused, _) = agree(&g, &[y]);
                assert_eq!(fused, 1, "{op:?} {dtype} {dims:?}");
            }
        }
    }
}

#[test]
fn every_binary_op_on_every_dtype_and_size() {
    for op in binary_ops() {
        for dtype in DTYPES.into_iter().filter(|&d| binary_supported(op, d)) {
            for dims in SIZES {
                let (a, b) = (values(dtype, dims, 2, true), values(dtype, dims, 3, false));
                binary_agrees(op, a, b, dims);
            }
        }
    }
}

/// `a op b` of result shape `dims` agrees between the backends.
fn binary_agrees(op: BinaryOp, a: Tensor, b: Tensor, dims: &[usize]) {
    let out = if op.is_comparison() {
        DType::Bool
    } else {
        a.dtype()
    };
    let mut g = Graph::new();
    let (a, b) = (konst(&mut g, a), konst(&mut g, b));
    let y = add(&mut g, Op::Binary(op), &[a, b], out, dims);
    agree(&g, &[y]);
}

#[test]
fn binary_ops_broadcast_by_static_strides() {
    let cases: [(&[usize], &[usize], &[usize]); 8] = [
        (&[17], &[1], &[17]),
        (&[], &[1023], &[1023]),
        (&[4, 17], &[17], &[4, 17]),
        (&[4, 1], &[1, 17], &[4, 17]),
        (&[2, 3, 17], &[3, 1], &[2, 3, 17]),
        (&[5, 1, 3], &[1, 7, 1], &[5, 7, 3]),
        (&[3, 0], &[1, 0], &[3, 0]),
        (&[1, 1], &[1], &[1, 1]),
    ];
    for (sa, sb, so) in cases {
        for dtype in [DType::F32, DType::F64, DType::I32] {
            for op in [BinaryOp::Add, BinaryOp::Maximum, BinaryOp::Lt] {
                binary_agrees(
                    op,
                    values(dtype, sa, 4, true),
                    values(dtype, sb, 5, true),
                    so,
                );
            }
        }
    }
}

#[test]
fn casts_between_every_pair_of_dtypes() {
    for from in DTYPES {
        for to in DTYPES {
            for dims in [&[17][..], &[3, 5]] {
                let mut g = Graph::new();
                let x = konst(&mut g, values(from, dims, 6, true));
                let y = add(&mut g, Op::Cast(to), &[x], to, dims);
                agree(&g, &[y]);
            }
        }
    }
}

#[test]
fn select_broadcast_and_stop_gradient() {
    for dtype in DTYPES {
        let mut g = Graph::new();
        let c = konst(&mut g, values(DType::Bool, &[4, 1], 7, false));
        let a = konst(&mut g, values(dtype, &[17], 8, true));
        let b = konst(&mut g, values(dtype, &[], 9, true));
        let s = add(&mut g, Op::Select, &[c, a, b], dtype, &[4, 17]);
        let t = add(&mut g, Op::StopGradient, &[s], dtype, &[4, 17]);
        let x = konst(&mut g, values(dtype, &[3], 10, true));
        let bx = add(&mut g, Op::Broadcast, &[x], dtype, &[2, 3]);
        agree(&g, &[t, bx]);
    }
}

/// `relu(a*b + c) * sigmoid(d)`, plus a comparison and cast, is one kernel.
#[test]
fn a_chain_fuses_into_one_kernel() {
    for n in [1usize, 3, 17, 1023] {
        let mut g = Graph::new();
        let dims = [2, n];
        let f = DType::F32;
        let a = konst(&mut g, values(f, &dims, 11, true));
        let b = konst(&mut g, values(f, &dims, 12, false));
        let c = konst(&mut g, values(f, &[n], 13, false));
        let d = konst(&mut g, values(f, &[2, 1], 14, false));
        let ab = add(&mut g, Op::Binary(BinaryOp::Mul), &[a, b], f, &dims);
        let abc = add(&mut g, Op::Binary(BinaryOp::Add), &[ab, c], f, &dims);
        let r = add(&mut g, Op::Unary(UnaryOp::Relu), &[abc], f, &dims);
        let s = add(&mut g, Op::Unary(UnaryOp::Sigmoid), &[d], f, &[2, 1]);
        let y = add(&mut g, Op::Binary(BinaryOp::Mul), &[r, s], f, &dims);
        // sigmoid(d) has a smaller shape (unless n = 1): stored, not recomputed.
        let kernels = if n == 1 { 1 } else { 2 };
        assert_eq!(agree(&g, &[y]), (kernels, 0));
        // Comparison, select and cast in one scalar kernel.
        let gt = add(
            &mut g,
            Op::Binary(BinaryOp::Gt),
            &[y, a],
            DType::Bool,
            &dims,
        );
        let sel = add(&mut g, Op::Select, &[gt, a, y], f, &dims);
        let z = add(&mut g, Op::Cast(DType::F64), &[sel], DType::F64, &dims);
        agree(&g, &[z]);
        // A node used twice is stored once and read by both users.
        let twice = add(&mut g, Op::Binary(BinaryOp::Add), &[y, y], f, &dims);
        agree(&g, &[twice, y]);
    }
}

/// The inline `f32` `exp` and `sigmoid` across their whole range: overflow,
/// underflow to subnormals and 0, infinities, NaN, and both sides of 0.
#[test]
fn inline_exp_and_sigmoid_over_their_range() {
    let mut xs: Vec<f32> = vec![
        -200.0,
        -104.0,
        -103.9,
        -100.0,
        -87.5,
        -87.3,
        -50.0,
        -1e-3,
        -0.0,
        0.0,
        1e-3,
        50.0,
        88.7,
        88.73,
        89.0,
        100.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        0.3466,
        -0.3466,
    ];
    xs.extend((0..1000).map(|i| (i as f32 - 500.0) * 0.2));
    let n = xs.len();
    let x = crate::ir::Tensor::F32(
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[n]), xs).expect("shape"),
    );
    for op in [UnaryOp::Exp, UnaryOp::Sigmoid] {
        let mut g = Graph::new();
        let k = konst(&mut g, x.clone());
        let y = add(&mut g, Op::Unary(op), &[k], DType::F32, &[n]);
        agree(&g, &[y]);
    }
}

/// Measured: `exp` is within 1 ulp of libm's on the normal range, `sigmoid`
/// within 2; asserted with a margin of one.
#[test]
fn inline_exp_and_sigmoid_are_within_a_few_ulp_of_libm() {
    use crate::ir::Tensor;
    let xs: Vec<f32> = (0..200_000)
        .map(|i| -87.0 + (i as f32) * (175.0 / 200_000.0))
        .collect();
    let n = xs.len();
    let x = Tensor::F32(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[n]), xs.clone()).unwrap());
    // Every instruction set this CPU runs: without FMA (portable) the
    // multiply-adds round twice, within the same bounds.
    let isas = crate::kernels::isa::Isa::ALL
        .into_iter()
        .filter(|isa| isa.missing().is_empty());
    for (isa, op) in isas.flat_map(|i| [(i, UnaryOp::Exp), (i, UnaryOp::Sigmoid)]) {
        let mut g = Graph::new();
        let k = konst(&mut g, x.clone());
        let y = add(&mut g, Op::Unary(op), &[k], DType::F32, &[n]);
        let exe = crate::backend::jit::compile_for(&g, &[y], Default::default(), isa).unwrap();
        let e = std::collections::HashMap::new();
        let r = exe
            .run(&crate::backend::StepInputs {
                placeholders: &e,
                variables: &e,
            })
            .unwrap();
        let Tensor::F32(out) = &r.fetched[0] else {
            panic!()
        };
        let mut max_ulp = 0i64;
        for (xv, yv) in xs.iter().zip(out.iter()) {
            let want = <f32 as crate::ir::scalar::Scalar>::unary(op, *xv);
            let d = (want.to_bits() as i64 - yv.to_bits() as i64).abs();
            max_ulp = max_ulp.max(d);
        }
        let bound = if op == UnaryOp::Exp { 2 } else { 3 };
        assert!(max_ulp <= bound, "{isa:?} {op:?}: {max_ulp} ulp from libm");
    }
}

/// A vector select against the constant `+0.0` is lowered to one `and`/`andnot`
/// (`ops.rs`); against `-0.0` or any other value it must stay a `bitselect`.
/// Either way the bits equal the interpreter's, NaN and `-0.0` included.
#[test]
fn select_against_constant_zero_is_bitwise_the_interpreters() {
    use crate::backend::{interp, StepInputs};
    let n = 1023;
    for constant in [0.0f32, -0.0, 2.5] {
        let mut g = Graph::new();
        let x = konst(&mut g, values(DType::F32, &[n], 7, true));
        let c = konst(
            &mut g,
            crate::ir::Tensor::scalar(DType::F32, constant as f64),
        );
        let c = add(&mut g, Op::Broadcast, &[c], DType::F32, &[n]);
        let zero = konst(&mut g, crate::ir::Tensor::scalar(DType::F32, 0.0));
        let zero = add(&mut g, Op::Broadcast, &[zero], DType::F32, &[n]);
        let positive = add(
            &mut g,
            Op::Binary(BinaryOp::Gt),
            &[x, zero],
            DType::Bool,
            &[n],
        );
        let keep = add(&mut g, Op::Select, &[positive, x, c], DType::F32, &[n]);
        let drop = add(&mut g, Op::Select, &[positive, c, x], DType::F32, &[n]);
        let none = std::collections::HashMap::new();
        let inputs = StepInputs {
            placeholders: &none,
            variables: &none,
        };
        let want = interp::run_step(&g, &[keep, drop], &inputs).unwrap();
        let options = crate::backend::jit::Options::checked();
        let exe = crate::backend::jit::compile(&g, &[keep, drop], options).unwrap();
        let got = exe.run(&inputs).unwrap();
        for (w, a) in want.fetched.iter().zip(&got.fetched) {
            assert_eq!(super::bits(w), super::bits(a), "select against {constant}");
        }
    }
}
