//! Odd shapes (1, 3, 17) checked against naive loops written here.

use super::*;
use crate::ir::ReduceOp;

/// Deterministic small integers in `-8..8`.
fn values(count: usize, seed: u32) -> Vec<i32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((state >> 16) % 16) as i32 - 8
        })
        .collect()
}

fn run_op(op: Op, inputs: Vec<Tensor>, out: TensorType) -> Tensor {
    eval_op(op, inputs, out).unwrap()
}

#[test]
fn transpose_1_3_17() {
    let x = values(51, 1);
    let got = run_op(
        Op::Transpose {
            perm: vec![2, 0, 1],
        },
        vec![i32t(&[1, 3, 17], &x)],
        ty(DType::I32, &[17, 1, 3]),
    );
    let mut expected = Vec::new();
    for k in 0..17 {
        for j in 0..3 {
            expected.push(x[j * 17 + k]);
        }
    }
    assert_exact(&got, &i32t(&[17, 1, 3], &expected));
}

#[test]
fn reductions_1_3_17() {
    let x = values(51, 2);
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let sum = |axes: Vec<usize>, keepdims: bool, out: &[usize]| {
        let op = Op::Reduce {
            op: ReduceOp::Sum,
            axes,
            keepdims,
        };
        run_op(op, vec![f32t(&[1, 3, 17], &xf)], ty(DType::F32, out))
    };
    let rows: Vec<f32> = (0..3)
        .map(|j| (0..17).map(|k| xf[j * 17 + k]).sum())
        .collect();
    assert_exact(&sum(vec![2], false, &[1, 3]), &f32t(&[1, 3], &rows));
    let cols: Vec<f32> = (0..17)
        .map(|k| (0..3).map(|j| xf[j * 17 + k]).sum())
        .collect();
    assert_exact(
        &sum(vec![0, 1], true, &[1, 1, 17]),
        &f32t(&[1, 1, 17], &cols),
    );
    let total: f32 = xf.iter().sum();
    assert_exact(
        &sum(vec![0, 1, 2], true, &[1, 1, 1]),
        &f32t(&[1, 1, 1], &[total]),
    );
    let op = Op::Reduce {
        op: ReduceOp::Min,
        axes: vec![0, 2],
        keepdims: false,
    };
    let mins: Vec<i32> = (0..3)
        .map(|j| (0..17).map(|k| x[j * 17 + k]).min().unwrap_or(i32::MAX))
        .collect();
    let got = run_op(op, vec![i32t(&[1, 3, 17], &x)], ty(DType::I32, &[3]));
    assert_exact(&got, &i32t(&[3], &mins));
}

#[test]
fn batched_integer_matmul_with_broadcast() {
    // [3, 1, 2, 17] @ [4, 17, 3] -> [3, 4, 2, 3]
    let a = values(3 * 2 * 17, 3);
    let b = values(4 * 17 * 3, 4);
    let got = run_op(
        Op::MatMul,
        vec![i32t(&[3, 1, 2, 17], &a), i32t(&[4, 17, 3], &b)],
        ty(DType::I32, &[3, 4, 2, 3]),
    );
    let mut expected = Vec::new();
    for i in 0..3 {
        for j in 0..4 {
            for r in 0..2 {
                for c in 0..3 {
                    let dot: i32 = (0..17)
                        .map(|k| a[(i * 2 + r) * 17 + k] * b[(j * 17 + k) * 3 + c])
                        .sum();
                    expected.push(dot);
                }
            }
        }
    }
    assert_exact(&got, &i32t(&[3, 4, 2, 3], &expected));
    // The same in f64 agrees exactly (small integers).
    let af: Vec<f64> = a.iter().map(|&v| v as f64).collect();
    let bf: Vec<f64> = b.iter().map(|&v| v as f64).collect();
    let got = run_op(
        Op::MatMul,
        vec![f64t(&[3, 1, 2, 17], &af), f64t(&[4, 17, 3], &bf)],
        ty(DType::F64, &[3, 4, 2, 3]),
    );
    let ef: Vec<f64> = expected.iter().map(|&v| v as f64).collect();
    assert_exact(&got, &f64t(&[3, 4, 2, 3], &ef));
}

#[test]
fn conv2d_on_integers_matches_loops() {
    // x [1, 3, 17, 3], w [2, 3, 3, 1], strides [1, 2], pads [1, 0, 2, 1].
    let x = values(3 * 17 * 3, 5);
    let w = values(2 * 3 * 3, 6);
    let (h, wd, c, kh, kw) = (3usize, 17usize, 3usize, 2usize, 3usize);
    let (sh, sw, top, left) = (1usize, 2usize, 1usize, 2usize);
    let oh = (h + 1 - kh) / sh + 1;
    let ow = (wd + 3 - kw) / sw + 1;
    let mut expected = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            let mut acc = 0;
            for ky in 0..kh {
                for kx in 0..kw {
                    let (iy, ix) = (
                        (oy * sh + ky) as i64 - top as i64,
                        (ox * sw + kx) as i64 - left as i64,
                    );
                    if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                        continue;
                    }
                    for ch in 0..c {
                        acc += x[((iy as usize) * wd + ix as usize) * c + ch]
                            * w[(ky * kw + kx) * c + ch];
                    }
                }
            }
            expected.push(acc);
        }
    }
    let op = Op::Conv2d {
        strides: [sh, sw],
        pads: [top, 0, left, 1],
    };
    let got = run_op(
        op,
        vec![i32t(&[1, h, wd, c], &x), i32t(&[kh, kw, c, 1], &w)],
        ty(DType::I32, &[1, oh, ow, 1]),
    );
    assert_exact(&got, &i32t(&[1, oh, ow, 1], &expected));
}
