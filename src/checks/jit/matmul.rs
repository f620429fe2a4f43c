//! MatMul through GEMM vs the interpreter: 2-D, batched, broadcast batches,
//! sizes that are not multiples of any block size, and empty dimensions.

use super::no_inputs;
use super::{add, agree, konst, values};
use crate::ir::{DType, Graph, Op};

#[test]
fn matmul_agrees_with_the_interpreter() {
    let cases: [(&[usize], &[usize], &[usize]); 8] = [
        (&[1, 1], &[1, 1], &[1, 1]),
        (&[3, 17], &[17, 5], &[3, 5]),
        (&[17, 3], &[3, 1023], &[17, 1023]),
        (&[2, 3, 4], &[2, 4, 5], &[2, 3, 5]),
        (&[3, 4], &[2, 4, 5], &[2, 3, 5]),
        (&[2, 1, 3, 4], &[3, 4, 2], &[2, 3, 3, 2]),
        (&[0, 4], &[4, 3], &[0, 3]),
        (&[3, 0], &[0, 2], &[3, 2]),
    ];
    for (sa, sb, so) in cases {
        for dtype in [DType::F32, DType::F64] {
            let mut g = Graph::new();
            let a = konst(&mut g, values(dtype, sa, 21, false));
            let b = konst(&mut g, values(dtype, sb, 22, false));
            let y = add(&mut g, Op::MatMul, &[a, b], dtype, so);
            assert_eq!(agree(&g, &[y]), (0, 1), "{sa:?} @ {sb:?}");
        }
    }
}

#[test]
fn i32_matmul_falls_back_to_the_interpreter() {
    let mut g = Graph::new();
    let a = konst(&mut g, values(DType::I32, &[3, 4], 23, false));
    let b = konst(&mut g, values(DType::I32, &[4, 2], 24, false));
    let y = add(&mut g, Op::MatMul, &[a, b], DType::I32, &[3, 2]);
    assert_eq!(agree(&g, &[y]), (0, 0));
}

/// A pooled buffer still holds an earlier product when a later matmul of the
/// same type takes it: every product (also `k = 0`, all zeros, and the
/// transposed-operand copy path) must overwrite it, step after step.
#[test]
fn reused_buffers_never_leak_an_earlier_product() {
    use crate::backend::interp;
    use crate::backend::jit::{compile, Options};
    for (m, k, n) in [(2, 3, 4), (130, 140, 150)] {
        let mut g = Graph::new();
        let a = konst(&mut g, values(DType::F32, &[m, k], 1, false));
        let b = konst(&mut g, values(DType::F32, &[k, n], 2, false));
        let p1 = add(&mut g, Op::MatMul, &[a, b], DType::F32, &[m, n]);
        let y = add(
            &mut g,
            Op::Unary(crate::ir::UnaryOp::Neg),
            &[p1],
            DType::F32,
            &[m, n],
        );
        let c = konst(&mut g, values(DType::F32, &[m, 0], 3, false));
        let d = konst(&mut g, values(DType::F32, &[0, n], 4, false));
        let p2 = add(&mut g, Op::MatMul, &[c, d], DType::F32, &[m, n]);
        let e = konst(&mut g, values(DType::F32, &[n, k], 5, false));
        let t = add(
            &mut g,
            Op::Transpose { perm: vec![1, 0] },
            &[e],
            DType::F32,
            &[k, n],
        );
        let p3 = add(&mut g, Op::MatMul, &[a, t], DType::F32, &[m, n]);
        let fetches = [y, p2, p3];
        let inputs = no_inputs();
        let expected = interp::run_step(&g, &fetches, &inputs).expect("interp");
        assert!(expected.fetched[1].to_f64_vec().iter().all(|&v| v == 0.0));
        let exe = compile(&g, &fetches, Options::checked()).expect("compile");
        for step in 0..3 {
            let got = exe.run(&inputs).expect("jit");
            for (i, (e, j)) in expected.fetched.iter().zip(&got.fetched).enumerate() {
                let (e, j) = (e.to_f64_vec(), j.to_f64_vec());
                let close = e
                    .iter()
                    .zip(&j)
                    .all(|(x, y)| (x - y).abs() <= 1e-5 * x.abs().max(1.0));
                assert!(close, "{m}x{k}x{n} step {step}: fetch {i} differs");
            }
            exe.recycle(got.fetched);
        }
    }
}
