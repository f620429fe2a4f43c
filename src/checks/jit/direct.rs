//! The JIT's direct kernels (`backend/jit/direct`: slices, pads, `take`,
//! their adjoints) against the interpreter: bitwise equal values (NaN equal
//! to NaN), with 1 and 2 threads and on a second run (reused buffers), every
//! node planned as `Step::Direct`; errors with the interpreter's message.

use super::values;
use crate::backend::jit::plan::Step;
use crate::backend::jit::{compile, Options};
use crate::backend::{interp, StepInputs};
use crate::diag::Span;
use crate::ir::infer::infer;
use crate::ir::{DType, GradOp, Graph, NodeId, Op, Tensor, TensorType};
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;

/// A graph over fed inputs; `direct` lists the nodes that must plan as
/// `Step::Direct`.
pub(super) struct Case {
    pub(super) g: Graph,
    feeds: HashMap<String, Tensor>,
    pub(super) fetches: Vec<NodeId>,
    direct: Vec<NodeId>,
}

impl Case {
    pub(super) fn new() -> Case {
        Case {
            g: Graph::new(),
            feeds: HashMap::new(),
            fetches: Vec::new(),
            direct: Vec::new(),
        }
    }

    /// A placeholder fed `t`.
    pub(super) fn feed(&mut self, t: Tensor) -> NodeId {
        let name = format!("p{}", self.feeds.len());
        let ty = t.ty();
        self.feeds.insert(name.clone(), t);
        self.g
            .add(Op::Placeholder { name }, Vec::new(), ty, Span::new(3, 5))
    }

    /// A placeholder of deterministic values (with NaN, ±inf, ... when `special`).
    pub(super) fn input(&mut self, dtype: DType, dims: &[usize], special: bool) -> NodeId {
        let seed = 11 + 5 * self.feeds.len() as u64 + dims.iter().sum::<usize>() as u64;
        self.feed(values(dtype, dims, seed, special))
    }

    /// Adds `op` (typed by `ir::infer`, or `ty` for backward ops), fetched
    /// and expected to run a direct kernel.
    #[track_caller]
    pub(super) fn op(&mut self, op: Op, inputs: &[NodeId], ty: Option<TensorType>) -> NodeId {
        let ty = ty.unwrap_or_else(|| {
            let tys: Vec<&TensorType> = inputs.iter().map(|&i| self.g.ty(i)).collect();
            infer(&op, &tys).unwrap_or_else(|e| panic!("{op:?}: {e}"))
        });
        let id = self.g.add(op, inputs.to_vec(), ty, Span::new(3, 5));
        self.fetches.push(id);
        self.direct.push(id);
        id
    }

    /// Both backends agree bitwise (1 and 2 threads, two runs each), or fail
    /// with the same message. Returns the JIT's error message, if any.
    #[track_caller]
    pub(super) fn check(&self) -> Option<String> {
        let empty = HashMap::new();
        let inputs = StepInputs {
            placeholders: &self.feeds,
            variables: &empty,
        };
        let expected = interp::run_step(&self.g, &self.fetches, &inputs);
        let mut message = None;
        for threads in [1, 2] {
            let options = Options {
                check_bounds: true,
                threads,
                ..Options::default()
            };
            let exe = compile(&self.g, &self.fetches, options).expect("compiles");
            for &id in &self.direct {
                let step = &exe.steps[id.index()];
                assert!(matches!(step, Step::Direct), "{id} plans as {step:?}");
            }
            for _ in 0..2 {
                match (&expected, exe.run(&inputs)) {
                    (Ok(e), Ok(a)) => {
                        for (k, (x, y)) in e.fetched.iter().zip(&a.fetched).enumerate() {
                            assert_eq!(x.ty(), y.ty(), "fetch {k}");
                            let same = x.to_f64_vec().iter().zip(y.to_f64_vec()).all(|(p, q)| {
                                p.to_bits() == q.to_bits() || p.is_nan() && q.is_nan()
                            });
                            assert!(same, "fetch {k} ({threads} threads): {x:?} vs {y:?}");
                        }
                    }
                    (Err(e), Err(a)) => {
                        assert_eq!(e.message, a.message);
                        assert_eq!(e.kind, a.kind);
                        message = Some(a.message);
                    }
                    (e, a) => panic!("interp {:?} vs jit {:?}", e.as_ref().err(), a.err()),
                }
            }
        }
        message
    }
}

pub(super) fn ints(dims: &[usize], v: Vec<i32>) -> Tensor {
    Tensor::I32(ArrayD::from_shape_vec(IxDyn(dims), v).expect("shape"))
}

/// Input dims, starts, sizes, steps.
type Slice = (
    &'static [usize],
    &'static [usize],
    &'static [usize],
    &'static [i64],
);
/// x dims, axis, index dims, indices.
type Take = (&'static [usize], usize, &'static [usize], Vec<i32>);

#[test]
fn strided_slices_with_negative_steps_and_their_scatters() {
    let cases: [Slice; 5] = [
        (&[17], &[16], &[6], &[-3]),
        (&[5, 7], &[1, 6], &[2, 7], &[2, -1]),
        (&[3, 4, 1023], &[2, 0, 1], &[2, 4, 511], &[-1, 1, 2]),
        (&[4, 9], &[0, 3], &[4, 1], &[1, 1]),
        (&[2, 6], &[0, 0], &[2, 0], &[1, 1]),
    ];
    for (dims, starts, sizes, steps) in cases {
        for dtype in [DType::F32, DType::I32] {
            let mut c = Case::new();
            let x = c.input(dtype, dims, true);
            let op = Op::StridedSlice {
                starts: starts.to_vec(),
                sizes: sizes.to_vec(),
                steps: steps.to_vec(),
            };
            c.op(op, &[x], None);
            let g = c.input(dtype, sizes, true);
            let scatter = GradOp::StridedScatter {
                starts: starts.to_vec(),
                steps: steps.to_vec(),
            };
            let ty = TensorType::new(dtype, dims.to_vec());
            c.op(Op::Grad(scatter), &[g], Some(ty));
            assert_eq!(c.check(), None);
        }
    }
}

#[test]
fn every_pad_mode_and_the_adjoints() {
    let cases: [(&[usize], &[[usize; 2]]); 4] = [
        (&[7], &[[3, 2]]),
        (&[3, 5], &[[1, 2], [4, 0]]),
        (&[2, 3, 17], &[[0, 0], [2, 2], [5, 16]]),
        (&[1, 4, 1], &[[0, 1], [3, 3], [1, 1]]),
    ];
    for (dims, pads) in cases {
        let padded: Vec<usize> = dims
            .iter()
            .zip(pads)
            .map(|(d, p)| d + p[0] + p[1])
            .collect();
        for dtype in [DType::F32, DType::F64, DType::Bool] {
            let mut c = Case::new();
            let x = c.input(dtype, dims, true);
            c.op(
                Op::Pad {
                    pads: pads.to_vec(),
                    value: -2.5,
                },
                &[x],
                None,
            );
            let g = c.input(dtype, &padded, true);
            let starts: Vec<usize> = pads.iter().map(|p| p[0]).collect();
            let ty = TensorType::new(dtype, dims.to_vec());
            c.op(Op::Grad(GradOp::Slice { starts }), &[g], Some(ty.clone()));
            for symmetric in [false, true] {
                let fits = dims.iter().zip(pads).all(|(&d, p)| {
                    let limit = if symmetric { d } else { d - 1 };
                    p[0].max(p[1]) <= limit || p == &[0, 0]
                });
                if !fits || dtype == DType::Bool {
                    continue;
                }
                let mirror = Op::MirrorPad {
                    pads: pads.to_vec(),
                    symmetric,
                };
                c.op(mirror, &[x], None);
                let grad = GradOp::MirrorPadGrad {
                    pads: pads.to_vec(),
                    symmetric,
                };
                c.op(Op::Grad(grad), &[g], Some(ty.clone()));
            }
            assert_eq!(c.check(), None);
        }
    }
}

#[test]
fn take_and_its_scatter_add_with_negative_and_repeated_indices() {
    let cases: [Take; 4] = [
        (&[10, 3], 0, &[5], vec![0, -1, 9, 3, 3]),
        (&[4, 17], 1, &[2, 3], vec![16, 0, -17, 5, 5, 5]),
        (&[3, 5, 2], 1, &[], vec![-2]),
        (&[6], 0, &[0], vec![]),
    ];
    for (dims, axis, idx_dims, idx) in cases {
        let mut c = Case::new();
        let x = c.input(DType::F32, dims, true);
        let i = c.feed(ints(idx_dims, idx));
        let y = c.op(Op::Take { axis }, &[x, i], None);
        let out = c.g.ty(y).shape.dims().to_vec();
        let g = c.input(DType::F32, &out, false);
        let ty = TensorType::new(DType::F32, dims.to_vec());
        c.op(Op::Grad(GradOp::TakeGrad { axis }), &[g, i], Some(ty));
        assert_eq!(c.check(), None);
    }
}

#[test]
fn take_out_of_range_is_the_interpreters_error_naming_the_index() {
    for bad in [3, -4] {
        let mut c = Case::new();
        let x = c.input(DType::F32, &[3, 2], false);
        let i = c.feed(ints(&[2, 2], vec![0, 1, 2, bad]));
        c.op(Op::Take { axis: 0 }, &[x, i], None);
        let message = c.check().expect("an error");
        assert!(
            message.contains(&format!("index {bad} at position [1, 1]")),
            "{message}"
        );
    }
}

#[test]
fn large_gathers_split_among_threads_give_the_same_bits() {
    let mut c = Case::new();
    let x = c.input(DType::F32, &[300, 1001], true);
    c.op(
        Op::StridedSlice {
            starts: vec![299, 3],
            sizes: vec![150, 333],
            steps: vec![-2, 3],
        },
        &[x],
        None,
    );
    c.op(
        Op::Pad {
            pads: vec![[2, 1], [3, 4]],
            value: 0.0,
        },
        &[x],
        None,
    );
    c.op(
        Op::MirrorPad {
            pads: vec![[5, 5], [7, 1]],
            symmetric: false,
        },
        &[x],
        None,
    );
    let i = c.feed(ints(&[4], vec![299, 0, -1, 7]));
    c.op(Op::Take { axis: 0 }, &[x, i], None);
    assert_eq!(c.check(), None);
}

#[test]
fn large_scatters_split_among_threads_give_the_same_bits() {
    // Repeated rows (take along axis 0) and repeated columns (mirrored
    // edges, take along axis 1) add several gradients into one target.
    let mut c = Case::new();
    let dims = [300, 1001];
    let ty = TensorType::new(DType::F32, dims.to_vec());
    let rows: Vec<i32> = (0..600).map(|k| k * 7 % 300 - 150).collect();
    let i = c.feed(ints(&[600], rows));
    let g = c.input(DType::F32, &[600, 1001], true);
    let take = GradOp::TakeGrad { axis: 0 };
    c.op(Op::Grad(take), &[g, i], Some(ty.clone()));
    let cols: Vec<i32> = (0..1500).map(|k| k * 13 % 1001).collect();
    let j = c.feed(ints(&[1500], cols));
    let g = c.input(DType::F32, &[300, 1500], true);
    let take = GradOp::TakeGrad { axis: 1 };
    c.op(Op::Grad(take), &[g, j], Some(ty.clone()));
    let g = c.input(DType::F32, &[310, 1009], true);
    let mirror = GradOp::MirrorPadGrad {
        pads: vec![[5, 5], [7, 1]],
        symmetric: false,
    };
    c.op(Op::Grad(mirror), &[g], Some(ty));
    assert_eq!(c.check(), None);
}

#[test]
fn a_slice_between_fused_kernels_reads_and_writes_arena_slots() {
    let mut c = Case::new();
    let x = c.input(DType::F32, &[64, 33], false);
    let two = c.g.add(
        Op::Binary(crate::ir::BinaryOp::Add),
        vec![x, x],
        c.g.ty(x).clone(),
        Span::new(3, 5),
    );
    let op = Op::StridedSlice {
        starts: vec![63, 1],
        sizes: vec![32, 16],
        steps: vec![-2, 2],
    };
    let s = c.op(op, &[two], None);
    c.fetches.clear();
    let ty = c.g.ty(s).clone();
    let y = c.g.add(
        Op::Binary(crate::ir::BinaryOp::Mul),
        vec![s, s],
        ty,
        Span::new(3, 5),
    );
    // A matmul of the slice keeps it stored: the fused product alone would
    // read it in place (`jit/views.rs`).
    let w = c.input(DType::F32, &[16, 8], false);
    let p = c.g.add(
        Op::MatMul,
        vec![s, w],
        TensorType::new(DType::F32, vec![32, 8]),
        Span::new(3, 5),
    );
    c.fetches.extend([y, p]);
    let exe = compile(&c.g, &c.fetches, Options::checked()).expect("compiles");
    exe.run(&StepInputs {
        placeholders: &c.feeds,
        variables: &HashMap::new(),
    })
    .expect("runs");
    assert!(
        exe.in_arena(two.index()) && exe.in_arena(s.index()),
        "slot for the slice and its input"
    );
    assert_eq!(c.check(), None);
}
