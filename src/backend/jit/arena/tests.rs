//! The arena: the packer (no two live intervals overlap, alignment, size at
//! least the largest live set) and whole executables (the arena smaller than
//! its values, the plan left mid-step, the replayed walk). Results against
//! the interpreter's: `crate::checks::jit::arena`.

use super::{disjoint, pack, Item, Span, ALIGN};
use crate::backend::jit::tests::{add, konst, values};
use crate::backend::jit::{compile, Options};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, UnaryOp};

fn round(b: usize) -> usize {
    b.div_ceil(ALIGN) * ALIGN
}

/// Asserts `pack`'s result for `items`: aligned, disjoint while live, and
/// at least the largest set of rounded sizes live at one position.
fn check(items: &[Item]) -> usize {
    let (offsets, size) = pack(items);
    assert_eq!(offsets.len(), items.len());
    for (i, a) in items.iter().enumerate() {
        assert_eq!(offsets[i] % ALIGN, 0, "item {i} misaligned");
        assert!(offsets[i] + round(a.bytes) <= size, "item {i} outside");
        for (j, b) in items.iter().enumerate().skip(i + 1) {
            let live = a.first <= b.last && b.first <= a.last;
            let (oa, ob) = (offsets[i], offsets[j]);
            let apart = oa + round(a.bytes) <= ob || ob + round(b.bytes) <= oa;
            assert!(
                !live || apart,
                "items {i} and {j} overlap: {a:?}@{oa} {b:?}@{ob}"
            );
        }
    }
    let end = items.iter().map(|i| i.last).max().unwrap_or(0);
    let most = (0..=end)
        .map(|p| {
            let live = items.iter().filter(|i| i.first <= p && p <= i.last);
            live.map(|i| round(i.bytes)).sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    assert!(size >= most, "arena {size} below the live set {most}");
    size
}

#[test]
fn values_that_never_live_together_share_memory() {
    let it = |first, last, bytes| Item { first, last, bytes };
    // A chain (each read by the next): the first and the third share a slot.
    assert_eq!(
        check(&[it(0, 1, 1000), it(1, 2, 640), it(2, 3, 1024)]),
        1024 + 640
    );
    assert_eq!(check(&[it(0, 0, 100), it(1, 1, 100), it(2, 2, 100)]), 128);
    // Overlapping: the sum, each rounded up to 64 bytes.
    assert_eq!(check(&[it(0, 5, 1), it(2, 3, 65), it(4, 9, 64)]), 64 + 128);
    assert_eq!(check(&[]), 0);
}

#[test]
fn a_gap_left_by_a_dead_value_is_reused() {
    let it = |first, last, bytes| Item { first, last, bytes };
    // a [0, 2] 4 KiB and b [0, 9] 1 KiB are placed first; c [3, 9] fits
    // in a's place once a is dead: 5 KiB in all, not 6.
    let items = [it(0, 2, 4096), it(0, 9, 1024), it(3, 9, 1024)];
    assert_eq!(check(&items), 5120);
}

#[test]
fn random_intervals_never_overlap_while_live() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    for round_ in 0..200 {
        let n = 1 + next(40);
        let items: Vec<Item> = (0..n)
            .map(|_| {
                let first = next(60);
                Item {
                    first,
                    last: first + next(20),
                    bytes: 1 + next(5000),
                }
            })
            .collect();
        let size = check(&items);
        let total: usize = items.iter().map(|i| round(i.bytes)).sum();
        assert!(size <= total, "round {round_}: {size} > {total}");
    }
}

#[test]
fn the_overlap_check_finds_shared_bytes_of_live_values() {
    let span = |node, offset, first, last, leaf: Option<u32>| Span {
        node: NodeId(node),
        offset,
        bytes: 128,
        first,
        last,
        leaf: leaf.map(NodeId),
    };
    assert!(disjoint(&[
        span(1, 0, 0, 3, None),
        span(2, 128, 1, 4, None)
    ]));
    assert!(disjoint(&[span(1, 0, 0, 3, None), span(2, 0, 4, 6, None)]));
    assert!(!disjoint(&[
        span(1, 0, 0, 3, None),
        span(2, 64, 3, 6, None)
    ]));
    // In place: only the leaf's last read may meet the output's write.
    assert!(disjoint(&[
        span(1, 0, 0, 3, None),
        span(2, 0, 3, 6, Some(1))
    ]));
    assert!(!disjoint(&[span(1, 0, 0, 3, None), span(2, 0, 3, 6, None)]));
    assert!(!disjoint(&[
        span(1, 0, 0, 4, None),
        span(2, 0, 3, 6, Some(1))
    ]));
}

/// `relu(x @ w1) @ w2`, a row sum of it, `tanh` of the sum times a product
/// with `w3`: matmul, fused, reduction and matmul outputs that only kernels
/// read, of several sizes, fetched at the end.
pub(crate) fn network(g: &mut Graph) -> Vec<NodeId> {
    let f = DType::F32;
    let x = konst(g, values(f, &[48, 40], 1, false));
    let w1 = konst(g, values(f, &[40, 64], 2, false));
    let w2 = konst(g, values(f, &[64, 32], 3, false));
    let w3 = konst(g, values(f, &[32, 16], 4, false));
    let h = add(g, Op::MatMul, &[x, w1], f, &[48, 64]);
    let r = add(g, Op::Unary(UnaryOp::Relu), &[h], f, &[48, 64]);
    let p = add(g, Op::MatMul, &[r, w2], f, &[48, 32]);
    let sum = Op::Reduce {
        op: ReduceOp::Sum,
        axes: vec![1],
        keepdims: true,
    };
    let s = add(g, sum, &[p], f, &[48, 1]);
    let t = add(g, Op::Unary(UnaryOp::Tanh), &[p], f, &[48, 32]);
    let q = add(g, Op::MatMul, &[t, w3], f, &[48, 16]);
    let y = add(g, Op::Binary(BinaryOp::Mul), &[q, s], f, &[48, 16]);
    vec![y]
}

#[test]
fn the_arena_is_smaller_than_its_values() {
    let mut g = Graph::new();
    let fetches = network(&mut g);
    let exe = compile(&g, &fetches, Options::checked()).expect("compile");
    let plan = exe.arena_plan().expect("plan");
    let total: usize = plan.intervals.iter().map(|s| round(s.bytes)).sum();
    assert!(
        plan.size < total,
        "arena {} of {total} bytes: nothing shared",
        plan.size
    );
}

/// An in-place update's deferred readers (`inplace.rs`) where one is used up
/// by another before its own stack entry comes back: the schedule, and so
/// the arena's order, lists every node once.
#[test]
fn the_schedule_lists_a_used_up_deferred_reader_once() {
    let source = "
variable v4: f32[7] = randn(std=0.5);
variable v6: f32[] = 0.39;
variable v8: f32[] = randn(seed=8, std=0.5);
let t9 = maximum(maximum(log_softmax(v4), v6), v8);
let train = minimize(mean(t9 * t9), sgd(0.01));
";
    let module = crate::compile(source, std::path::Path::new(".")).expect("compiles");
    let train = module.lookup("train").expect("train");
    let exe = compile(&module.graph, &[train], Options::checked()).expect("jit");
    assert_eq!(exe.owned_variables().count(), 3, "all three in place");
    assert!(exe.arena_plan().is_some(), "a plan");
    let mut seen = vec![false; module.graph.len()];
    for id in exe.schedule.nodes() {
        assert!(
            !std::mem::replace(&mut seen[id.index()], true),
            "{id} twice"
        );
    }
}
