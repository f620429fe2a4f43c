//! Every non-elementwise op on the JIT against the interpreter, with 1, 3, 17
//! and 1023 elements along the innermost (vectorised) axis, which are not
//! multiples of the vector width, and with 0-sized dimensions where the op
//! allows them. Values agree as in [`crate::checks::autodiff::util::assert_agree`].

use super::prop::agree_scaled;
use super::{konst, values};
use crate::diag::Span;
use crate::ir::infer::{infer, infer_reshape};
use crate::ir::{DType, Graph, NodeId, Op, ReduceOp, Tensor, TensorType};
use std::collections::HashMap;

const SIZES: [usize; 4] = [1, 3, 17, 1023];
const F32: DType = DType::F32;

/// One graph over fed inputs, with labelled fetches.
struct Case {
    g: Graph,
    feeds: HashMap<String, Tensor>,
    fetches: Vec<(String, NodeId)>,
}

impl Case {
    fn new() -> Case {
        Case {
            g: Graph::new(),
            feeds: HashMap::new(),
            fetches: Vec::new(),
        }
    }

    /// A placeholder fed deterministic values (with NaN, ±inf, ... when `special`).
    fn input(&mut self, dtype: DType, dims: &[usize], special: bool) -> NodeId {
        let name = format!("p{}", self.feeds.len());
        let seed = 40 + self.feeds.len() as u64 * 7 + dims.iter().sum::<usize>() as u64;
        self.feeds
            .insert(name.clone(), values(dtype, dims, seed, special));
        let ty = TensorType::new(dtype, dims.to_vec());
        self.g
            .add(Op::Placeholder { name }, Vec::new(), ty, Span::new(1, 2))
    }

    /// Adds `op` over `inputs` (typed by `ir::infer`) and fetches it.
    #[track_caller]
    fn fetch(&mut self, label: String, op: Op, inputs: &[NodeId]) -> NodeId {
        let tys: Vec<&TensorType> = inputs.iter().map(|&i| self.g.ty(i)).collect();
        let ty = match infer(&op, &tys) {
            Ok(ty) => ty,
            Err(e) => panic!("{label}: {e}"),
        };
        let id = self.g.add(op, inputs.to_vec(), ty, Span::new(1, 2));
        self.fetches.push((label, id));
        id
    }

    #[track_caller]
    fn reshape(&mut self, x: NodeId, spec: &[i64]) {
        let ty = infer_reshape(self.g.ty(x), spec).expect("reshape spec");
        let id = self.g.add(Op::Reshape, vec![x], ty, Span::new(1, 2));
        self.fetches.push((format!("reshape {spec:?}"), id));
    }

    /// Asserts the backends agree; returns the JIT's native kernel count.
    #[track_caller]
    fn check(self) -> usize {
        agree_scaled(&self.g, &self.fetches, &self.feeds)
    }
}

/// Shapes whose last axis has `n` elements, plus `n` on a leading axis.
fn shapes(n: usize) -> Vec<Vec<usize>> {
    vec![vec![n], vec![2, n], vec![n, 3], vec![2, 3, n]]
}

#[test]
fn reductions_over_each_axis() {
    let ops = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];
    for n in SIZES.into_iter().chain([0]) {
        for dims in shapes(n).into_iter().chain([vec![0, 3], vec![3, 0, 2]]) {
            for (dtype, special) in [
                (F32, false),
                (F32, true),
                (DType::F64, false),
                (DType::I32, true),
            ] {
                let mut case = Case::new();
                let x = case.input(dtype, &dims, special);
                let rank = dims.len();
                let every: Vec<usize> = (0..rank).collect();
                let axis_sets = (0..rank).map(|a| vec![a]).chain([every]);
                for axes in axis_sets {
                    for op in ops {
                        if dtype == DType::I32 && op == ReduceOp::Mean {
                            continue; // a type error
                        }
                        for keepdims in [false, true] {
                            let label = format!(
                                "{op:?} {dtype:?}{dims:?} axes {axes:?} keepdims {keepdims}"
                            );
                            let reduce = Op::Reduce {
                                op,
                                axes: axes.clone(),
                                keepdims,
                            };
                            case.fetch(label, reduce, &[x]);
                        }
                    }
                }
                let native = case.check();
                // f32/f64 reductions are native kernels (i32 ones the interpreter's).
                assert!(
                    dtype == DType::I32 || native > 0,
                    "{dtype:?}{dims:?}: no native kernel"
                );
            }
        }
    }
}

/// Reductions big enough (over 64K elements) for the JIT to split them among
/// threads, with the 1023 odd elements on either axis.
#[test]
fn large_reductions_over_each_axis() {
    let ops = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min];
    for dims in [[67, 1023], [1023, 67]] {
        let mut case = Case::new();
        let x = case.input(F32, &dims, false);
        for axes in [vec![0], vec![1], vec![0, 1]] {
            for op in ops {
                let label = format!("{op:?} {dims:?} axes {axes:?}");
                let reduce = Op::Reduce {
                    op,
                    axes: axes.clone(),
                    keepdims: false,
                };
                case.fetch(label, reduce, &[x]);
            }
        }
        let native = case.check();
        assert!(native > 0, "{dims:?}: reductions run natively");
    }
}

#[test]
fn argmax_over_each_axis() {
    for n in SIZES.into_iter().chain([0]) {
        for dims in shapes(n) {
            for (dtype, special) in [(F32, false), (F32, true), (DType::I32, false)] {
                let mut case = Case::new();
                let x = case.input(dtype, &dims, special);
                // argmax over an empty axis is a type error.
                for axis in (0..dims.len()).filter(|&a| dims[a] > 0) {
                    let label = format!("argmax {dtype:?}{dims:?} axis {axis}");
                    case.fetch(label, Op::ArgMax { axis }, &[x]);
                }
                if !case.fetches.is_empty() {
                    let _ = case.check();
                }
            }
        }
    }
}

#[test]
fn reshape_and_transpose() {
    for n in SIZES.into_iter().chain([0]) {
        let mut case = Case::new();
        let x = case.input(F32, &[2, 3, n], true);
        case.reshape(x, &[-1]);
        case.reshape(x, &[n as i64, 6]);
        case.reshape(x, &[2, 1, 3 * n as i64, 1]);
        let perms = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        for perm in perms {
            let label = format!("transpose [2, 3, {n}] {perm:?}");
            let op = Op::Transpose {
                perm: perm.to_vec(),
            };
            case.fetch(label, op, &[x]);
        }
        let _ = case.check();
    }
}

#[test]
fn concat_along_each_axis() {
    for n in SIZES.into_iter().chain([0]) {
        let mut case = Case::new();
        let a = case.input(F32, &[2, n], false);
        let b = case.input(F32, &[2, 3], false);
        let c = case.input(F32, &[2, 0], false);
        case.fetch(
            format!("concat [2, {n}] [2, 3] [2, 0] axis 1"),
            Op::Concat { axis: 1 },
            &[a, b, c],
        );
        let d = case.input(F32, &[3, n], false);
        case.fetch(
            format!("concat [2, {n}] [3, {n}] axis 0"),
            Op::Concat { axis: 0 },
            &[a, d],
        );
        let i = case.input(DType::I32, &[1, n], true);
        case.fetch(
            format!("concat i32 [1, {n}] twice"),
            Op::Concat { axis: 0 },
            &[i, i],
        );
        let _ = case.check();
    }
}

#[test]
fn index_in_and_out_of_range() {
    for n in SIZES.into_iter().chain([0]) {
        for at in [0.0, 2.0, -1.0, -3.0] {
            let mut case = Case::new();
            let x = case.input(F32, &[3, n], false);
            let i = konst(&mut case.g, Tensor::scalar(DType::I32, at));
            case.fetch(format!("index [3, {n}] at {at}"), Op::Index, &[x, i]);
            let _ = case.check();
        }
        // Out of range: both backends fail with the same kind of diagnostic.
        let mut case = Case::new();
        let x = case.input(F32, &[3, n], false);
        let i = konst(&mut case.g, Tensor::scalar(DType::I32, 3.0));
        case.fetch(format!("index [3, {n}] at 3"), Op::Index, &[x, i]);
        let _ = case.check();
    }
}

#[test]
fn pad_with_a_value() {
    for n in SIZES.into_iter().chain([0]) {
        let mut case = Case::new();
        let x = case.input(F32, &[2, n], true);
        for pads in [[[0, 0], [0, 0]], [[1, 0], [2, 3]], [[0, 2], [5, 0]]] {
            let op = Op::Pad {
                pads: pads.to_vec(),
                value: 1.5,
            };
            case.fetch(format!("pad [2, {n}] {pads:?}"), op, &[x]);
        }
        let empty = case.input(F32, &[0, n], false);
        let op = Op::Pad {
            pads: vec![[1, 1], [1, 0]],
            value: -2.0,
        };
        case.fetch(format!("pad [0, {n}]"), op, &[empty]);
        let _ = case.check();
    }
}

#[test]
fn one_hot_of_each_depth() {
    for n in SIZES.into_iter().chain([0]) {
        let mut case = Case::new();
        // Labels in and out of range (negative, ≥ depth, i32::MIN/MAX).
        let labels = case.input(DType::I32, &[2, n], true);
        for depth in [0, 1, 3, 17] {
            case.fetch(
                format!("one_hot [2, {n}] depth {depth}"),
                Op::OneHot { depth },
                &[labels],
            );
        }
        let row = case.input(DType::I32, &[5], true);
        case.fetch(
            format!("one_hot [5] depth {n}"),
            Op::OneHot { depth: n },
            &[row],
        );
        let _ = case.check();
    }
}

#[test]
fn matmul_with_odd_sizes() {
    for n in SIZES.into_iter().chain([0]) {
        let mut case = Case::new();
        for (m, k, p) in [(3, 5, n), (2, n, 3), (n, 3, 2)] {
            let a = case.input(F32, &[m, k], false);
            let b = case.input(F32, &[k, p], false);
            case.fetch(format!("matmul [{m}, {k}] [{k}, {p}]"), Op::MatMul, &[a, b]);
        }
        let a = case.input(F32, &[2, 3, n], false);
        let b = case.input(F32, &[2, n, 3], false);
        case.fetch(
            format!("batched matmul [2, 3, {n}] [2, {n}, 3]"),
            Op::MatMul,
            &[a, b],
        );
        let w = case.input(F32, &[3, n], false);
        case.fetch(
            format!("broadcast matmul [2, {n}, 3] [3, {n}]"),
            Op::MatMul,
            &[b, w],
        );
        let a = case.input(DType::F64, &[3, n], false);
        let b = case.input(DType::F64, &[n, 2], false);
        case.fetch(format!("f64 matmul [3, {n}] [{n}, 2]"), Op::MatMul, &[a, b]);
        let native = case.check();
        assert!(native >= 5, "matmuls run natively: {native} kernels");
    }
}

#[test]
fn conv2d_and_max_pool2d_with_odd_channels() {
    for n in SIZES {
        let mut case = Case::new();
        // `n` output channels, then `n` input channels.
        let x = case.input(F32, &[1, 4, 5, 2], false);
        let w = case.input(F32, &[3, 3, 2, n], false);
        for (strides, pads) in [([1, 1], [1, 1, 1, 1]), ([2, 1], [0, 1, 2, 0])] {
            let op = Op::Conv2d { strides, pads };
            case.fetch(
                format!("conv2d C 2 -> {n} {strides:?} {pads:?}"),
                op,
                &[x, w],
            );
        }
        let x = case.input(F32, &[2, 3, 4, n], false);
        let w = case.input(F32, &[2, 2, n, 3], false);
        let op = Op::Conv2d {
            strides: [1, 1],
            pads: [0, 0, 0, 0],
        };
        case.fetch(format!("conv2d C {n} -> 3"), op, &[x, w]);
        for (size, strides) in [([2, 2], [2, 2]), ([3, 2], [1, 1]), ([1, 1], [2, 3])] {
            let op = Op::MaxPool2d {
                size,
                strides,
                pads: [0; 4],
            };
            case.fetch(format!("max_pool2d C {n} {size:?} {strides:?}"), op, &[x]);
        }
        let _ = case.check();
    }
    // An empty batch.
    let mut case = Case::new();
    let x = case.input(F32, &[0, 4, 4, 3], false);
    let w = case.input(F32, &[3, 3, 3, 2], false);
    let op = Op::Conv2d {
        strides: [1, 1],
        pads: [1, 1, 1, 1],
    };
    case.fetch("conv2d, batch 0".to_string(), op, &[x, w]);
    let op = Op::MaxPool2d {
        size: [2, 2],
        strides: [2, 2],
        pads: [0; 4],
    };
    case.fetch("max_pool2d, batch 0".to_string(), op, &[x]);
    let _ = case.check();
}

#[test]
fn softmax_family_and_losses() {
    for n in SIZES.into_iter().chain([0]) {
        for (dtype, special) in [(F32, false), (F32, true), (DType::F64, false)] {
            let mut case = Case::new();
            let x = case.input(dtype, &[3, n], special);
            for axis in [0, 1] {
                case.fetch(
                    format!("softmax {dtype:?}[3, {n}] axis {axis}"),
                    Op::Softmax { axis },
                    &[x],
                );
                let op = Op::LogSoftmax { axis };
                case.fetch(
                    format!("log_softmax {dtype:?}[3, {n}] axis {axis}"),
                    op,
                    &[x],
                );
            }
            let labels = case.input(dtype, &[3, n], false);
            let op = Op::SoftmaxCrossEntropy;
            case.fetch(
                format!("softmax_cross_entropy {dtype:?}[3, {n}]"),
                op,
                &[x, labels],
            );
            let op = Op::MeanSquaredError;
            case.fetch(
                format!("mean_squared_error {dtype:?}[3, {n}]"),
                op,
                &[x, labels],
            );
            let wide = case.input(dtype, &[n, 2], special);
            let op = Op::Softmax { axis: 0 };
            case.fetch(format!("softmax {dtype:?}[{n}, 2] axis 0"), op, &[wide]);
            let _ = case.check();
        }
    }
}
