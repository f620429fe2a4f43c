//! Sibling GEMMs: which matmuls pair and the arena plan's order for a pair.
//! Results bitwise equal across thread counts and runs, within 1e-5 of the
//! interpreter: `crate::checks::jit::siblings`.

use crate::backend::jit::tests::{add, konst, values};
use crate::backend::jit::{compile, Executable, Options};
use crate::ir::{DType, Graph, NodeId, Op, ReduceOp, UnaryOp};

pub(crate) const F: DType = DType::F32;

fn row_max() -> Op {
    Op::Reduce {
        op: ReduceOp::Max,
        axes: vec![1],
        keepdims: true,
    }
}

pub(crate) fn transpose(g: &mut Graph, x: NodeId, dims: &[usize]) -> NodeId {
    let perm = vec![1, 0];
    add(g, Op::Transpose { perm }, &[x], F, &[dims[1], dims[0]])
}

/// A dense layer's backward: `dW = hᵀ @ g` and `dh = g @ wᵀ` (both read `g`,
/// 192·256·128 multiply-adds each), then a row maximum of each (reduction
/// kernels, so both products are arena values, and no output can take a
/// product's buffer in place). `tanh(w)`, fetched first, computes `w`
/// before either product (as the forward pass does for a weight). Returns
/// the fetches and the products.
pub(crate) fn backward(g: &mut Graph) -> (Vec<NodeId>, [NodeId; 2]) {
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

pub(crate) fn build(g: &Graph, fetches: &[NodeId]) -> Executable {
    compile(g, fetches, Options::checked()).expect("compile")
}

/// The partner of `id` when exactly the constants are computed.
pub(crate) fn partner_at_start(exe: &Executable, g: &Graph, id: NodeId) -> Option<NodeId> {
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
