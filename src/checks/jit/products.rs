//! Products with a transposed operand read in place, bitwise the
//! interpreter's: the copied right operand (`backend::jit::matmul`) and the
//! column-major narrow product (`backend::jit::colout`).

use super::assert_transposed_product_bitwise;
use crate::ir::DType;

#[test]
fn copied_transposed_right_operands_give_the_interpreters_bits() {
    // `y @ transpose(x)` with enough rows and depth that the helper copies `x`
    // row-major before the product; batched in f64 too.
    type Case<'a> = (DType, &'a [usize], &'a [usize], Vec<usize>, &'a [usize]);
    // Depth 1030: three of gemm's depth chunks, accumulated blockwise.
    let cases: [Case; 3] = [
        (DType::F32, &[200, 150], &[90, 150], vec![1, 0], &[200, 90]),
        (
            DType::F32,
            &[130, 1030],
            &[300, 1030],
            vec![1, 0],
            &[130, 300],
        ),
        (
            DType::F64,
            &[2, 130, 140],
            &[2, 50, 140],
            vec![0, 2, 1],
            &[2, 130, 50],
        ),
    ];
    for (dtype, y_dims, x_dims, perm, out) in cases {
        assert_transposed_product_bitwise(dtype, (y_dims, x_dims, perm, out), false, 21);
    }
}

#[test]
fn transposed_left_operands_with_few_columns_give_the_interpreters_bits() {
    // `transpose(x) @ g` through the JIT (the plan reads `x` in place) in
    // f32 and f64, batched, against the interpreter.
    type Case<'a> = (DType, &'a [usize], &'a [usize], Vec<usize>, &'a [usize]);
    let cases: [Case; 3] = [
        (
            DType::F32,
            &[256, 1024],
            &[256, 10],
            vec![1, 0],
            &[1024, 10],
        ),
        (DType::F32, &[1030, 130], &[1030, 9], vec![1, 0], &[130, 9]),
        (
            DType::F64,
            &[2, 70, 150],
            &[2, 70, 5],
            vec![0, 2, 1],
            &[2, 150, 5],
        ),
    ];
    for (dtype, x_dims, g_dims, perm, out) in cases {
        assert_transposed_product_bitwise(dtype, (g_dims, x_dims, perm, out), true, 31);
    }
}
