//! MatMul through GEMM vs the interpreter: 2-D, batched, broadcast batches,
//! sizes that are not multiples of any block size, and empty dimensions.

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
