//! Sibling GEMMs: which matmuls pair, the arena plan's order for a pair, and
//! results bitwise equal across thread counts and runs, within 1e-5 of the
//! interpreter.

use crate::backend::jit::tests::{add, assert_results, konst, values};
use crate::backend::jit::{compile, Executable, Options};
use crate::backend::threads::with_threads;
use crate::backend::{interp, StepInputs};
use crate::ir::{DType, Graph, NodeId, Op, ReduceOp, Tensor, UnaryOp};
use std::collections::HashMap;

const F: DType = DType::F32;

fn row_max() -> Op {
    Op::Reduce {
        op: ReduceOp::Max,
        axes: vec![1],
        keepdims: true,
    }
}

fn transpose(g: &mut Graph, x: NodeId, dims: &[usize]) -> NodeId {
    let perm = vec![1, 0];
    add(g, Op::Transpose { perm }, &[x], F, &[dims[1], dims[0]])
}

/// A dense layer's backward: `dW = hᵀ @ g` and `dh = g @ wᵀ` (both read `g`,
/// 192·256·128 multiply-adds each), then a row maximum of each (reduction
/// kernels, so both products are arena values, and no output can take a
/// product's buffer in place). `tanh(w)`, fetched first, computes `w`
/// before either product (as the forward pass does for a weight). Returns
/// the fetches and the products.
fn backward(g: &mut Graph) -> (Vec<NodeId>, [NodeId; 2]) {
    let grad = konst(g, values(F, &[256, 128], 1, false));
    let h = konst(g, values(F, &[256, 192], 2, false));
    let w = konst(g, values(F, &[192, 128], 3, false));
    let ht = transpose(g, h, &[256, 192]);
    let dw = add(g, Op::MatMul, &[ht, grad], F, &[192, 128]);
    let wt = transpose(g, w, &[192, 128]);
    let dh = add(g, Op::MatMul, &[grad, wt], F, &[256, 192]);
    let u = add(g, row_max(), &[dw], F, &[192, 1]);
    let v = add(g, row_max(), &[dh], F, &[256, 1]);
    let tw = add(g, Op::Unary(UnaryOp::Tanh), &[w], F, &[192, 128]);
    (vec![tw, u, v], [dw, dh])
}

fn build(g: &Graph, fetches: &[NodeId]) -> Executable {
    compile(g, fetches, Options::checked()).expect("compile")
}

/// The partner of `id` when exactly the constants are computed.
fn partner_at_start(exe: &Executable, g: &Graph, id: NodeId) -> Option<NodeId> {
    let have = |d: NodeId| matches!(g.node(d).op, Op::Const(_));
    exe.partner(id, have, &vec![false; g.len()])
}

#[test]
fn independent_ready_products_pair_and_dependent_ones_do_not() {
    let mut g = Graph::new();
    let (fetches, [dw, dh]) = backward(&mut g);
    let exe = build(&g, &fetches);
    assert_eq!(partner_at_start(&exe, &g, dw), Some(dh));
    assert_eq!(partner_at_start(&exe, &g, dh), Some(dw));
    // Once `dh` is done it is no partner.
    let mut done = vec![false; g.len()];
    done[dh.index()] = true;
    let have = |d: NodeId| matches!(g.node(d).op, Op::Const(_)) || d == dh;
    assert_eq!(exe.partner(dw, have, &done), None);

    // `q` reads `p` through a `tanh`: never ready while `p` is not computed.
    let mut g = Graph::new();
    let a = konst(&mut g, values(F, &[256, 128], 4, false));
    let b = konst(&mut g, values(F, &[128, 128], 5, false));
    let c = konst(&mut g, values(F, &[128, 128], 6, false));
    let p = add(&mut g, Op::MatMul, &[a, b], F, &[256, 128]);
    let t = add(&mut g, Op::Unary(UnaryOp::Tanh), &[p], F, &[256, 128]);
    let q = add(&mut g, Op::MatMul, &[t, c], F, &[256, 128]);
    let exe2 = build(&g, &[q]);
    assert_eq!(partner_at_start(&exe2, &g, p), None);

    // Ready and independent but unbalanced (4× the work): not paired.
    let mut g = Graph::new();
    let a = konst(&mut g, values(F, &[256, 128], 7, false));
    let b = konst(&mut g, values(F, &[128, 128], 8, false));
    let c = konst(&mut g, values(F, &[128, 512], 9, false));
    let p = add(&mut g, Op::MatMul, &[a, b], F, &[256, 128]);
    let q = add(&mut g, Op::MatMul, &[a, c], F, &[256, 512]);
    let exe3 = build(&g, &[p, q]);
    assert_eq!(partner_at_start(&exe3, &g, p), None);
}

#[test]
fn the_arena_plan_computes_a_pair_together() {
    let mut g = Graph::new();
    let (fetches, [dw, dh]) = backward(&mut g);
    let exe = build(&g, &fetches);
    let plan = exe.arena_plan().expect("a plan");
    let order: Vec<NodeId> = exe.schedule.nodes().collect();
    let at = |id: NodeId| order.iter().position(|&n| n == id).expect("in order");
    let (i, j) = (at(dw), at(dh));
    assert_eq!(i.abs_diff(j), 1, "{order:?}");
    let slot = |id: NodeId| plan.slot[id.index()].expect("an arena value");
    let span = |id: NodeId| plan.intervals.iter().find(|s| s.node == id).copied();
    let (a, b) = (span(dw).expect("dW"), span(dh).expect("dH"));
    // Both live from the pair's first position: slots apart.
    let bytes = |id: NodeId| g.ty(id).shape.numel() * 4;
    let apart = slot(dw) + bytes(dw) <= slot(dh) || slot(dh) + bytes(dh) <= slot(dw);
    assert!(apart, "{a:?} {b:?}");
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn paired_products_give_the_same_bits_on_one_and_two_threads() {
    let mut g = Graph::new();
    let (fetches, _) = backward(&mut g);
    let empty = HashMap::new();
    let inputs = StepInputs {
        placeholders: &empty,
        variables: &empty,
    };
    let expected = interp::run_step(&g, &fetches, &inputs).expect("interp");
    let exe = build(&g, &fetches);
    let mut first: Option<Vec<Vec<u64>>> = None;
    let mut pooled = None;
    for step in 0..6 {
        // Alternately one and two threads (this thread only: other tests run
        // at the same time).
        let threads = 1 + step % 2;
        let got = with_threads(threads, || exe.run(&inputs)).expect("jit");
        assert_results(&expected, &got);
        let now: Vec<Vec<u64>> = got.fetched.iter().map(bits).collect();
        assert!(
            *first.get_or_insert_with(|| now.clone()) == now,
            "step {step} ({threads} threads): other bits"
        );
        exe.recycle(got.fetched);
        let n = exe.pooled_buffers();
        // The products stay in the arena (the step followed the plan's
        // pairing): only the three fetched buffers come back to the pool.
        assert!(n <= 3, "step {step}: {n} pooled buffers");
        assert_eq!(*pooled.get_or_insert(n), n, "step {step}: the pool grew");
    }
}

#[test]
fn a_paired_product_on_one_thread_has_the_bits_of_gemms_two_thread_split() {
    // 512·256·256 multiply-adds: above the size at which gemm splits a
    // product over two threads; `dh` also takes `transb`'s column split.
    let mut g = Graph::new();
    let grad = konst(&mut g, values(F, &[256, 256], 11, false));
    let h = konst(&mut g, values(F, &[256, 512], 12, false));
    let w = konst(&mut g, values(F, &[512, 256], 13, false));
    let ht = transpose(&mut g, h, &[256, 512]);
    let dw = add(&mut g, Op::MatMul, &[ht, grad], F, &[512, 256]);
    let wt = transpose(&mut g, w, &[512, 256]);
    let dh = add(&mut g, Op::MatMul, &[grad, wt], F, &[256, 512]);
    let tw = add(&mut g, Op::Unary(UnaryOp::Tanh), &[w], F, &[512, 256]);
    let empty = HashMap::new();
    let inputs = StepInputs {
        placeholders: &empty,
        variables: &empty,
    };
    let paired = build(&g, &[tw, dw, dh]);
    assert_eq!(partner_at_start(&paired, &g, dw), Some(dh));
    let together = with_threads(2, || paired.run(&inputs)).expect("jit");
    // Each alone (no partner): gemm's own two-thread split.
    for (k, alone) in [dw, dh].into_iter().enumerate() {
        let exe = build(&g, &[alone]);
        let got = with_threads(2, || exe.run(&inputs)).expect("jit");
        assert!(
            bits(&got.fetched[0]) == bits(&together.fetched[k + 1]),
            "product {k}: paired bits differ from the two-thread product"
        );
    }
    let expected = interp::run_step(&g, &[tw, dw, dh], &inputs).expect("interp");
    assert_results(&expected, &together);
}
