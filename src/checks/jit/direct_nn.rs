//! The JIT's direct pooling and loss kernels against the interpreter (see
//! `direct.rs`): SAME and VALID windows on odd sizes, labels at the edges
//! and out of range, broadcast targets, and large inputs split among threads.

use super::direct::{ints, Case};
use crate::ir::{DType, GradOp, NodeId, Op, Tensor, TensorType};

/// SAME pads `[top, bottom, left, right]` of a window over `h` x `w`, as TF.
fn same(h: usize, w: usize, size: [usize; 2], strides: [usize; 2]) -> [usize; 4] {
    let pad = |n: usize, k: usize, s: usize| {
        let out = n.div_ceil(s);
        let total = ((out - 1) * s + k).saturating_sub(n);
        [total / 2, total - total / 2]
    };
    let ([t, b], [l, r]) = (pad(h, size[0], strides[0]), pad(w, size[1], strides[1]));
    [t, b, l, r]
}

/// Max and average pooling of `x` with `window` (size, strides, pads) and
/// both adjoints, for a gradient fed at the pooled shape.
fn pools_and_adjoints(c: &mut Case, x: NodeId, window: ([usize; 2], [usize; 2], [usize; 4])) {
    let (size, strides, pads) = window;
    let y = c.op(
        Op::MaxPool2d {
            size,
            strides,
            pads,
        },
        &[x],
        None,
    );
    c.op(
        Op::AvgPool2d {
            size,
            strides,
            pads,
        },
        &[x],
        None,
    );
    let dtype = c.g.ty(x).dtype;
    let out = c.g.ty(y).shape.dims().to_vec();
    let g = c.input(dtype, &out, false);
    let ty = c.g.ty(x).clone();
    let avg = GradOp::AvgPool2dGrad {
        size,
        strides,
        pads,
    };
    c.op(Op::Grad(avg), &[g], Some(ty.clone()));
    let max = GradOp::MaxPool2dGrad {
        size,
        strides,
        pads,
    };
    c.op(Op::Grad(max), &[x, g], Some(ty));
}

#[test]
fn pooling_and_its_adjoints_with_same_and_valid_windows_on_odd_sizes() {
    // (NHWC dims, size, strides)
    let cases: [([usize; 4], [usize; 2], [usize; 2]); 4] = [
        ([2, 7, 5, 3], [3, 3], [2, 2]),
        ([1, 9, 9, 1], [2, 2], [2, 2]),
        ([3, 5, 11, 17], [3, 2], [1, 3]),
        ([1, 1, 1, 2], [3, 3], [1, 1]),
    ];
    for (dims, size, strides) in cases {
        for valid in [false, true] {
            let pads = if valid {
                [0; 4]
            } else {
                same(dims[1], dims[2], size, strides)
            };
            if valid && (dims[1] < size[0] || dims[2] < size[1]) {
                continue;
            }
            for dtype in [DType::F32, DType::F64] {
                let mut c = Case::new();
                let x = c.input(dtype, &dims, true);
                pools_and_adjoints(&mut c, x, (size, strides, pads));
                assert_eq!(c.check(), None, "{dims:?} {size:?} {strides:?} {pads:?}");
            }
        }
    }
}

#[test]
fn max_pooling_on_integers_is_direct_too() {
    let mut c = Case::new();
    let x = c.input(DType::I32, &[2, 5, 5, 3], true);
    let (size, strides) = ([2, 2], [2, 2]);
    let pads = same(5, 5, size, strides);
    c.op(
        Op::MaxPool2d {
            size,
            strides,
            pads,
        },
        &[x],
        None,
    );
    assert_eq!(c.check(), None);
}

#[test]
fn sparse_cross_entropy_with_labels_at_the_edges() {
    for (rows, classes) in [(1, 1), (5, 3), (7, 1000), (2, 17)] {
        for dtype in [DType::F32, DType::F64] {
            let mut c = Case::new();
            let z = c.input(dtype, &[rows, classes], false);
            let labels: Vec<i32> = (0..rows)
                .map(|r| if r % 2 == 0 { 0 } else { classes as i32 - 1 })
                .collect();
            let l = c.feed(ints(&[rows], labels));
            c.op(Op::SparseSoftmaxCrossEntropy, &[z, l], None);
            let ty = TensorType::new(dtype, vec![rows, classes]);
            c.op(Op::Grad(GradOp::SparseSoftmaxGrad), &[z, l], Some(ty));
            assert_eq!(c.check(), None);
        }
    }
}

#[test]
fn a_label_out_of_range_is_the_interpreters_error_naming_the_row() {
    for bad in [3, -1] {
        for grad in [false, true] {
            let mut c = Case::new();
            let z = c.input(DType::F32, &[4, 3], false);
            let l = c.feed(ints(&[4], vec![0, 2, bad, 1]));
            if grad {
                let ty = TensorType::new(DType::F32, vec![4, 3]);
                c.op(Op::Grad(GradOp::SparseSoftmaxGrad), &[z, l], Some(ty));
            } else {
                c.op(Op::SparseSoftmaxCrossEntropy, &[z, l], None);
            }
            let message = c.check().expect("an error");
            assert!(message.contains("row 2"), "{message}");
        }
    }
}

#[test]
fn sigmoid_cross_entropy_with_broadcast_targets() {
    let cases: [(&[usize], &[usize]); 4] = [
        (&[7], &[7]),
        (&[3, 17], &[17]),
        (&[4, 1, 5], &[3, 1]),
        (&[0, 3], &[3]),
    ];
    for (a, b) in cases {
        let mut c = Case::new();
        let x = c.input(DType::F32, a, true);
        let z = c.input(DType::F32, b, false);
        c.op(Op::SigmoidCrossEntropy, &[x, z], None);
        assert_eq!(c.check(), None, "{a:?} {b:?}");
    }
}

#[test]
fn large_pools_and_losses_split_among_threads_give_the_same_bits() {
    let mut c = Case::new();
    let dims = [8, 33, 31, 16];
    let x = c.input(DType::F32, &dims, false);
    let (size, strides) = ([3, 3], [2, 2]);
    pools_and_adjoints(&mut c, x, (size, strides, same(33, 31, size, strides)));
    let z = c.input(DType::F32, &[600, 301], false);
    let labels = (0..600).map(|r| r * 7 % 301).collect();
    let l = c.feed(ints(&[600], labels));
    c.op(Op::SparseSoftmaxCrossEntropy, &[z, l], None);
    let t = c.input(DType::F32, &[600, 301], false);
    c.op(Op::SigmoidCrossEntropy, &[z, t], None);
    assert_eq!(c.check(), None);
}

#[test]
fn max_pooling_gradient_picks_the_first_maximum_and_a_nan_wins() {
    // One 2x2 window over 4 channels: a tie, a NaN after a smaller value, a
    // NaN first, and a maximum in the last cell.
    let nan = f32::NAN;
    #[rustfmt::skip]
    let x = vec![
        1.0, 0.5, nan, -1.0,
        1.0, nan, 9.0, -2.0,
        1.0, 7.0, nan, -3.0,
        0.0, 8.0, 9.0, 4.0,
    ];
    let mut c = Case::new();
    let x = c.feed(Tensor::F32(
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[1, 2, 2, 4]), x).expect("shape"),
    ));
    let g = c.input(DType::F32, &[1, 1, 1, 4], false);
    let window = ([2, 2], [2, 2], [0; 4]);
    let max = GradOp::MaxPool2dGrad {
        size: window.0,
        strides: window.1,
        pads: window.2,
    };
    let ty = TensorType::new(DType::F32, vec![1, 2, 2, 4]);
    c.op(Op::Grad(max), &[x, g], Some(ty));
    assert_eq!(c.check(), None);
}
