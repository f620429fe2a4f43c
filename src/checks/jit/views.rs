//! Slices read in place as strided views by fused kernels (`jit/views.rs`):
//! bitwise the interpreter's values on 1 and 2 threads, with and without
//! `check_bounds`, over two runs; the slice planned `Unused` exactly when
//! every reader reads it as a view.

use super::values;
use crate::backend::jit::plan::multi::without_merging;
use crate::backend::jit::plan::Step;
use crate::backend::jit::{compile, Executable, Options};
use crate::backend::{interp, StepInputs};
use crate::diag::Span;
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp};
use std::collections::HashMap;

/// A graph over fed inputs, with the slices expected read in place
/// (`viewed`) or written out (`stored`).
pub(super) struct Case {
    pub(super) g: Graph,
    pub(super) feeds: HashMap<String, Tensor>,
    pub(super) fetches: Vec<NodeId>,
    pub(super) viewed: Vec<NodeId>,
    pub(super) stored: Vec<NodeId>,
}

impl Case {
    pub(super) fn new() -> Case {
        Case {
            g: Graph::new(),
            feeds: HashMap::new(),
            fetches: Vec::new(),
            viewed: Vec::new(),
            stored: Vec::new(),
        }
    }

    pub(super) fn node(
        &mut self,
        op: Op,
        inputs: &[NodeId],
        dtype: DType,
        dims: &[usize],
    ) -> NodeId {
        let ty = TensorType::new(dtype, dims.to_vec());
        self.g.add(op, inputs.to_vec(), ty, Span::new(2, 7))
    }

    /// A placeholder of test values (NaN, ±inf, ... included).
    pub(super) fn input(&mut self, dtype: DType, dims: &[usize]) -> NodeId {
        self.input_of(dtype, dims, true)
    }

    /// A placeholder of test values, with special ones when `special`.
    pub(super) fn input_of(&mut self, dtype: DType, dims: &[usize], special: bool) -> NodeId {
        let name = format!("p{}", self.feeds.len());
        let seed = 3 + 7 * self.feeds.len() as u64;
        self.feeds
            .insert(name.clone(), values(dtype, dims, seed, special));
        self.node(Op::Placeholder { name }, &[], dtype, dims)
    }

    /// `x[starts + j * steps]` of `sizes` elements per axis.
    pub(super) fn slice(
        &mut self,
        x: NodeId,
        starts: &[usize],
        sizes: &[usize],
        steps: &[i64],
    ) -> NodeId {
        let op = Op::StridedSlice {
            starts: starts.to_vec(),
            sizes: sizes.to_vec(),
            steps: steps.to_vec(),
        };
        let dtype = self.g.ty(x).dtype;
        self.node(op, &[x], dtype, sizes)
    }

    pub(super) fn reshape(&mut self, x: NodeId, dims: &[usize]) -> NodeId {
        let dtype = self.g.ty(x).dtype;
        self.node(Op::Reshape, &[x], dtype, dims)
    }

    /// `a op b`, broadcast to `dims`.
    pub(super) fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId, dims: &[usize]) -> NodeId {
        let dtype = self.g.ty(a).dtype;
        let dtype = if op.is_comparison() {
            DType::Bool
        } else {
            dtype
        };
        self.node(Op::Binary(op), &[a, b], dtype, dims)
    }

    pub(super) fn unary(&mut self, op: UnaryOp, a: NodeId) -> NodeId {
        let ty = self.g.ty(a).clone();
        self.node(Op::Unary(op), &[a], ty.dtype, ty.shape.dims())
    }

    pub(super) fn compile(&self, check_bounds: bool, threads: usize) -> Executable {
        let options = Options {
            check_bounds,
            threads,
            ..Options::default()
        };
        compile(&self.g, &self.fetches, options).expect("compiles")
    }

    /// The plan, then the values against the interpreter's, bitwise.
    #[track_caller]
    pub(super) fn check(&self) {
        let empty = HashMap::new();
        let inputs = StepInputs {
            placeholders: &self.feeds,
            variables: &empty,
        };
        let expected = interp::run_step(&self.g, &self.fetches, &inputs).expect("interp runs");
        for check_bounds in [true, false] {
            for threads in [1, 2] {
                let exe = self.compile(check_bounds, threads);
                for &id in &self.viewed {
                    let step = &exe.steps[id.index()];
                    assert!(matches!(step, Step::Unused), "{id} plans as {step:?}");
                }
                for &id in &self.stored {
                    let step = &exe.steps[id.index()];
                    assert!(!matches!(step, Step::Unused), "{id} is not stored");
                }
                for _ in 0..2 {
                    let actual = exe.run(&inputs).expect("jit runs");
                    for (k, (x, y)) in expected.fetched.iter().zip(&actual.fetched).enumerate() {
                        assert_eq!(x.ty(), y.ty(), "fetch {k}");
                        let same = x
                            .to_f64_vec()
                            .iter()
                            .zip(y.to_f64_vec())
                            .all(|(p, q)| p.to_bits() == q.to_bits());
                        assert!(same, "fetch {k} ({threads} threads, checks {check_bounds})");
                    }
                }
            }
        }
    }

    /// `sum(x, axes)` of an `f32` value.
    pub(super) fn sum(&mut self, x: NodeId, axes: &[usize]) -> NodeId {
        let dims: Vec<usize> = (self.g.ty(x).shape.dims().iter().enumerate())
            .filter(|(a, _)| !axes.contains(a))
            .map(|(_, &d)| d)
            .collect();
        let op = Op::Reduce {
            op: crate::ir::ReduceOp::Sum,
            axes: axes.to_vec(),
            keepdims: false,
        };
        self.node(op, &[x], DType::F32, &dims)
    }

    /// How many leaves the fused kernels read as views.
    pub(super) fn views(&self) -> usize {
        let exe = self.compile(true, 1);
        let fused = exe.fused.iter().map(|f| &f.group);
        let reduced = exe.reductions.iter().map(|r| &r.reduction.group);
        fused.chain(reduced).map(|g| g.views.len()).sum()
    }

    /// Reductions: the JIT's first `same` values with the slices read in
    /// place are bitwise those with the slices written out (also fetched),
    /// on 1 and 2 threads with and without `check_bounds`; every value is
    /// close to the interpreter's (1e-4 relative, or absolute below 1).
    #[track_caller]
    pub(super) fn check_reduced(&self, same: usize) {
        let empty = HashMap::new();
        let inputs = StepInputs {
            placeholders: &self.feeds,
            variables: &empty,
        };
        let expected = interp::run_step(&self.g, &self.fetches, &inputs).expect("interp runs");
        let mut copied = Case {
            g: self.g.clone(),
            feeds: self.feeds.clone(),
            fetches: self.fetches.clone(),
            viewed: Vec::new(),
            stored: Vec::new(),
        };
        copied.fetches.extend(&self.viewed);
        for check_bounds in [true, false] {
            for threads in [1, 2] {
                let exe = self.compile(check_bounds, threads);
                for &id in &self.viewed {
                    let step = &exe.steps[id.index()];
                    assert!(matches!(step, Step::Unused), "{id} plans as {step:?}");
                }
                for &id in &self.stored {
                    let step = &exe.steps[id.index()];
                    assert!(!matches!(step, Step::Unused), "{id} is not stored");
                }
                let copy = copied.compile(check_bounds, threads);
                let want = copy.run(&inputs).expect("jit runs");
                let got = exe.run(&inputs).expect("jit runs");
                for k in 0..self.fetches.len() {
                    let (x, y) = (&want.fetched[k], &got.fetched[k]);
                    if k < same {
                        let (x, y) = (super::bits(x), super::bits(y));
                        assert_eq!(x, y, "fetch {k} ({threads} threads)");
                    }
                    // The JIT's f32 lane sums, against the interpreter's
                    // f64 ones (cancelling terms of magnitude ~4).
                    let e = expected.fetched[k].to_f64_vec();
                    for (p, q) in e.iter().zip(y.to_f64_vec()) {
                        let close = (p - q).abs() <= 1e-4 * p.abs().max(q.abs()).max(1.0);
                        assert!(close || p == &q || p.is_nan() && q.is_nan(), "{p} vs {q}");
                    }
                }
            }
        }
    }
}

/// `x[:, 1:] - x[:, :-1]` (a finite difference), `f32x4` with offsets.
#[test]
fn shifted_slices_of_one_input() {
    for (r, c) in [(37, 41), (3, 9), (1, 2), (300, 301)] {
        let mut t = Case::new();
        let x = t.input(DType::F32, &[r, c]);
        let right = t.slice(x, &[0, 1], &[r, c - 1], &[1, 1]);
        let left = t.slice(x, &[0, 0], &[r, c - 1], &[1, 1]);
        let d = t.binary(BinaryOp::Sub, right, left, &[r, c - 1]);
        let sq = t.binary(BinaryOp::Mul, d, d, &[r, c - 1]);
        t.fetches = vec![sq];
        t.viewed = vec![right, left];
        t.check();
        assert_eq!(t.views(), 2);
    }
}

/// Steps, negative steps and offsets on every axis, on each dtype.
#[test]
fn steps_and_negative_steps() {
    for dtype in [DType::F32, DType::F64, DType::I32] {
        let mut t = Case::new();
        let x = t.input(dtype, &[11, 13, 9]);
        let a = t.slice(x, &[1, 12, 0], &[4, 7, 9], &[3, -2, 1]);
        let b = t.slice(x, &[10, 0, 8], &[4, 7, 9], &[-2, 2, -1]);
        let y = t.input(dtype, &[4, 7, 9]);
        let s = t.binary(BinaryOp::Add, a, b, &[4, 7, 9]);
        let p = t.binary(BinaryOp::Mul, s, y, &[4, 7, 9]);
        t.fetches = vec![p];
        t.viewed = vec![a, b];
        t.check();
    }
}

/// `x[::-1]` of a whole vector: the kernel walks the buffer backwards.
#[test]
fn a_reversed_vector() {
    for n in [1, 4, 9, 1000, 70_001] {
        let mut t = Case::new();
        let x = t.input(DType::F32, &[n]);
        let r = t.slice(x, &[n - 1], &[n], &[-1]);
        let y = t.unary(UnaryOp::Relu, r);
        t.fetches = vec![y];
        t.viewed = vec![r];
        t.check();
    }
}

/// An integer subscript (a size-1 slice and a reshape dropping the axis),
/// broadcast against another operand; a column `x[:, 2:3]` broadcast along rows.
#[test]
fn integer_subscripts_and_broadcast_slices() {
    let (r, c) = (23, 17);
    let mut t = Case::new();
    let x = t.input(DType::F32, &[r, c]);
    let m = t.input(DType::F32, &[r, c]);
    // x[5, :] as a row: [1, c] slice, reshape to [c].
    let row1 = t.slice(x, &[5, 0], &[1, c], &[1, 1]);
    let row = t.reshape(row1, &[c]);
    let plus = t.binary(BinaryOp::Add, m, row, &[r, c]);
    // x[:, -1] as a column of [r, 1]: a slice kept 2-d.
    let col = t.slice(x, &[0, c - 1], &[r, 1], &[1, 1]);
    let times = t.binary(BinaryOp::Mul, plus, col, &[r, c]);
    // x[3, 4] as a scalar: reshape to [].
    let one1 = t.slice(x, &[3, 4], &[1, 1], &[1, 1]);
    let one = t.reshape(one1, &[]);
    let out = t.binary(BinaryOp::Sub, times, one, &[r, c]);
    t.fetches = vec![out];
    t.viewed = vec![row1, row, col, one1, one];
    t.check();
    assert_eq!(t.views(), 3);
}

/// A slice read by two fetched roots is read in place: once by the kernel
/// that stores both, or by each of two kernels when they are not merged.
#[test]
fn a_slice_feeding_two_kernels() {
    let mut t = Case::new();
    let x = t.input(DType::F32, &[40, 50]);
    let s = t.slice(x, &[2, 1], &[30, 40], &[1, 1]);
    let a = t.unary(UnaryOp::Relu, s);
    let y = t.input(DType::F32, &[30, 40]);
    let b = t.binary(BinaryOp::Mul, s, y, &[30, 40]);
    t.fetches = vec![a, b];
    t.viewed = vec![s];
    t.check();
    assert_eq!(t.views(), 1);
    assert_eq!(t.compile(true, 1).kernel_counts().0, 1);
    assert_eq!(without_merging(|| t.views()), 2);
}

/// A fetched slice, or one read by a non-elementwise step, is written out,
/// and its fused readers read the copy.
#[test]
fn a_fetched_or_otherwise_read_slice_is_stored() {
    let mut t = Case::new();
    let x = t.input(DType::F32, &[12, 10]);
    let s = t.slice(x, &[0, 2], &[12, 8], &[1, 1]);
    let a = t.unary(UnaryOp::Neg, s);
    t.fetches = vec![a, s];
    t.stored = vec![s];
    t.check();
    assert_eq!(t.views(), 0);
    // Read by a reduction as well, backwards (a reduction's layout takes
    // only forward views).
    let mut t = Case::new();
    let x = t.input(DType::F32, &[12, 10]);
    let s = t.slice(x, &[0, 9], &[12, 8], &[1, -1]);
    let a = t.unary(UnaryOp::Neg, s);
    let sum = t.sum(s, &[0, 1]);
    t.fetches = vec![a, sum];
    t.stored = vec![s];
    t.check();
    // A reshape read in place while its slice is also read by a fetch.
    let mut t = Case::new();
    let x = t.input(DType::F32, &[6, 5]);
    let s = t.slice(x, &[0, 3], &[6, 1], &[1, 1]);
    let r = t.reshape(s, &[6]);
    let a = t.unary(UnaryOp::Abs, r);
    t.fetches = vec![a, s];
    t.viewed = vec![r];
    t.stored = vec![s];
    t.check();
    assert_eq!(t.views(), 1);
}

/// A slice of a kernel's output, and in-place writes: a dying buffer read
/// through a reversing view (alone, or also whole) is never overwritten.
#[test]
fn views_of_kernel_outputs_are_not_overwritten_in_place() {
    for n in [8, 301, 70_000] {
        let mut t = Case::new();
        let a = t.input(DType::F32, &[n]);
        let b = t.input(DType::F32, &[n]);
        let u = t.binary(BinaryOp::Add, a, b, &[n]);
        let e = t.unary(UnaryOp::Abs, u);
        // `e` is stored (the slice is not elementwise) and dies in `out`.
        let r = t.slice(e, &[n - 1], &[n], &[-1]);
        let out = t.binary(BinaryOp::Mul, r, b, &[n]);
        let r2 = t.slice(out, &[n - 1], &[n], &[-1]);
        let both = t.binary(BinaryOp::Sub, r2, out, &[n]);
        t.fetches = vec![both];
        t.viewed = vec![r, r2];
        t.check();
    }
}

/// A reshape that only drops or inserts size-1 axes of a value that is not
/// a slice (an input, a matmul's output) is a view of the whole value: not
/// computed, read in place, the same bits.
#[test]
fn reshapes_of_any_value_dropping_size_1_axes() {
    for n in [7, 300] {
        let mut t = Case::new();
        let x = t.input(DType::F32, &[1, n]);
        let r = t.reshape(x, &[n]);
        let y = t.input(DType::F32, &[n]);
        let out = t.binary(BinaryOp::Add, r, y, &[n]);
        // A matmul's output (the same bits on both backends).
        let a = t.input(DType::F32, &[1, 5]);
        let b = t.input(DType::F32, &[5, n]);
        let p = t.node(Op::MatMul, &[a, b], DType::F32, &[1, n]);
        let flat = t.reshape(p, &[1, n, 1]);
        let out2 = t.binary(BinaryOp::Mul, flat, flat, &[1, n, 1]);
        t.fetches = vec![out, out2];
        t.viewed = vec![r, flat];
        t.check();
        assert_eq!(t.views(), 2);
    }
}
