//! Cutting dead pieces out of packed `fold` states (`fold_state.rs`, run by
//! `dce`): a snapshot on a hand-built fold, and autodiff's backward loops in
//! `fold_rnn.td` when only some gradients are fetched.

use super::interp::run_all;
use crate::ir::{BinaryOp, GradOp, Graph, NodeId, Op, Tensor, UnaryOp};
use crate::opt::tests::{after, f32s, lines, module, Builder};
use crate::opt::{count_nodes, dce};
use std::path::Path;

fn slice(b: &mut Builder, x: NodeId, start: usize, len: usize) -> NodeId {
    let op = Op::Grad(GradOp::Slice {
        starts: vec![start],
    });
    b.graph.add(op, vec![x], f32s(&[len]), Default::default())
}

/// State `[a | b | c]` of 2 each: `a' = tanh(a + x)`, `b' = b + a`,
/// `c' = c + b`. Only `b` is read after the loop; `b'` reads `a`, so `a`
/// stays; nothing live reads `c`, so it goes, with its `add`.
#[test]
fn dead_state_piece_is_cut_out() {
    let mut b = Builder::new();
    let h = b.placeholder("h", f32s(&[2]));
    let xs = b.placeholder("xs", f32s(&[3, 2]));
    let init = b.op(Op::Concat { axis: 0 }, &[h, h, h]);
    let mut r = Builder::region(vec![f32s(&[6]), f32s(&[2])]);
    let state = r.param(0);
    let x = r.param(1);
    let a = slice(&mut r, state, 0, 2);
    let bb = slice(&mut r, state, 2, 2);
    let c = slice(&mut r, state, 4, 2);
    let ax = r.op(Op::Binary(BinaryOp::Add), &[a, x]);
    let a_next = r.op(Op::Unary(UnaryOp::Tanh), &[ax]);
    let b_next = r.op(Op::Binary(BinaryOp::Add), &[bb, a]);
    let c_next = r.op(Op::Binary(BinaryOp::Add), &[c, bb]);
    let next = r.op(Op::Concat { axis: 0 }, &[a_next, b_next, c_next]);
    let body = Box::new(r.finish(next));
    let f = b.op(Op::Fold { body }, &[init, xs]);
    let out = slice(&mut b, f, 2, 2);
    let mut m = module(b.graph, &[("h", h), ("xs", xs), ("out", out)]);
    for p in &mut m.placeholders {
        let values = (0..p.ty.shape.numel())
            .map(|i| i as f64 * 0.3 - 0.5)
            .collect();
        p.default = Tensor::from_f64_vec(&p.ty, values);
    }
    let before = run_all(&m);
    let text = after(&mut m, vec![Box::new(dce::Dce)]);
    let expected = "
%0 = placeholder h : f32[2]  // h
%1 = placeholder xs : f32[3, 2]  // xs
%2 = concat[axis=0] %0, %0 : f32[4]
%3 = fold %2, %1 : f32[4]
  body(f32[4], f32[2]) {
    %0 = param 0 : f32[4]
    %1 = param 1 : f32[2]
    %2 = slice[starts=[0]] %0 : f32[2]
    %3 = slice[starts=[2]] %0 : f32[2]
    %4 = add %2, %1 : f32[2]
    %5 = tanh %4 : f32[2]
    %6 = add %3, %2 : f32[2]
    %7 = concat[axis=0] %5, %6 : f32[4]
    yield %7
  }
%4 = slice[starts=[2]] %3 : f32[2]  // out
";
    assert_eq!(text, lines(expected));
    let after_values = run_all(&m);
    assert!(crate::opt::values::same_bits(&before[2], &after_values[2]));
}

/// A piece a live piece reads stays, even when nothing outside reads it; a
/// fold with a non-slice user is left whole.
#[test]
fn read_pieces_and_other_users_keep_the_state() {
    let mut b = Builder::new();
    let h = b.placeholder("h", f32s(&[2]));
    let xs = b.placeholder("xs", f32s(&[3, 2]));
    let init = b.op(Op::Concat { axis: 0 }, &[h, h]);
    let mut r = Builder::region(vec![f32s(&[4]), f32s(&[2])]);
    let state = r.param(0);
    let a = slice(&mut r, state, 0, 2);
    let bb = slice(&mut r, state, 2, 2);
    let b_next = r.op(Op::Unary(UnaryOp::Exp), &[bb]);
    let next = r.op(Op::Concat { axis: 0 }, &[b_next, a]);
    let body = Box::new(r.finish(next));
    let f = b.op(Op::Fold { body }, &[init, xs]);
    let first = slice(&mut b, f, 0, 2);
    let whole = b.op(Op::Unary(UnaryOp::Neg), &[f]);
    // `first` reads piece 0, whose next value reads piece 1: all stay.
    let mut m = module(b.graph.clone(), &[("first", first)]);
    let n = count_nodes(&m.graph);
    after(&mut m, vec![Box::new(dce::Dce)]);
    assert_eq!(count_nodes(&m.graph), n - 1, "only the unnamed `neg` goes");
    // With `neg` reading the whole state, nothing is cut either.
    let mut m = module(b.graph, &[("first", first), ("whole", whole)]);
    let n = count_nodes(&m.graph);
    after(&mut m, vec![Box::new(dce::Dce)]);
    assert_eq!(count_nodes(&m.graph), n);
}

/// The ops in `graph` and its regions, by name.
fn ops(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for node in &graph.nodes {
        out.push(node.op.name());
        match &node.op {
            Op::Fold { body } | Op::Scan { body, .. } => out.extend(ops(body)),
            Op::Cond {
                then_body,
                else_body,
            } => {
                out.extend(ops(then_body));
                out.extend(ops(else_body));
            }
            _ => {}
        }
    }
    out
}

/// `fold_rnn.td` with some gradients not fetched: the backward loop (a reverse
/// `scan`) no longer carries (or computes) the unread adjoints, nor emits the
/// unread `d xs` rows, and every name keeps its value bit for bit. No
/// `scatter_index` of the whole `xs` is left in any case.
#[test]
fn backward_fold_drops_unfetched_adjoints() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let source = std::fs::read_to_string(dir.join("fold_rnn.td")).expect("fold_rnn.td");
    let without_dxs: String = source
        .lines()
        .filter(|l| !l.contains("dxs"))
        .map(|l| format!("{l}\n"))
        .collect();
    let only_dwh: String = without_dxs
        .lines()
        .filter(|l| !l.contains("train"))
        .map(|l| format!("{l}\n"))
        .collect();
    // (program, carried state, d xs rows of the backward scan)
    let cases = [
        (source.as_str(), 256 + 128 + 1024 + 32, 512),
        (without_dxs.as_str(), 256 + 128 + 1024 + 32, 0),
        (only_dwh.as_str(), 256 + 1024, 0),
    ];
    for (i, (text, state, rows)) in cases.into_iter().enumerate() {
        let module = crate::compile(text, &dir).expect("builds");
        let mut optimised = module.clone();
        crate::opt::optimize(&mut optimised).expect("optimises");
        crate::ir::verify::verify_module(&optimised).expect("verifies");
        let names = ops(&optimised.graph);
        assert!(!names.iter().any(|n| n == "scatter_index"), "case {i}");
        // The reverse loop is the scan driven by the i32 step indices.
        let lengths: Vec<(usize, usize)> = optimised
            .graph
            .nodes
            .iter()
            .filter_map(|n| match n.op {
                Op::Scan { carry, .. } => Some((n, carry)),
                _ => None,
            })
            .filter(|(n, _)| optimised.graph.ty(n.inputs[1]).dtype == crate::ir::DType::I32)
            .map(|(n, carry)| (carry, n.ty.shape.numel() - carry))
            .collect();
        assert_eq!(lengths, [(state, rows)], "case {i}");
        let (before, after) = (run_all(&module), run_all(&optimised));
        for ((name, _), (a, b)) in module.names.iter().zip(before.iter().zip(&after)) {
            assert!(
                crate::opt::values::same_bits(a, b),
                "case {i}: `{name}` differs"
            );
        }
    }
}

/// A backward `cond` packs the adjoints of both captures; only `da` is
/// fetched, so both branches stop computing `db`, the `cond` yields `f32[3]`,
/// and the whole-range slice left behind simplifies away.
#[test]
fn backward_cond_drops_unfetched_adjoints() {
    let source = "
placeholder a: f32[3] = [1.0, -2.0, 3.0];
placeholder b: f32[2] = [0.5, 4.0];
placeholder p: bool[] = true;
let y = cond(p, sum(a * a) + sum(exp(b)), sum(a) * sum(b));
let da = grad(y, a);
run y, da;
";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module = crate::compile(source, dir).expect("builds");
    let mut optimised = module.clone();
    crate::opt::optimize(&mut optimised).expect("optimises");
    crate::ir::verify::verify_module(&optimised).expect("verifies");
    let conds: Vec<Vec<usize>> = optimised
        .graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, Op::Cond { .. }))
        .map(|n| n.ty.shape.dims().to_vec())
        .collect();
    assert_eq!(conds, [vec![], vec![3]]);
    assert!(!ops(&optimised.graph).iter().any(|n| n == "slice"));
    let (before, after) = (run_all(&module), run_all(&optimised));
    for ((name, _), (a, b)) in module.names.iter().zip(before.iter().zip(&after)) {
        assert!(crate::opt::values::same_bits(a, b), "`{name}` differs");
    }
}

/// Second order through a fold and a cond, and a fold nested in a fold body:
/// pruning inside regions keeps every name bit-identical and shrinks the graph.
#[test]
fn nested_and_second_order_packings_stay_exact() {
    let source = "
placeholder xs: f32[5, 3] = randn(seed=1);
placeholder h0: f32[3] = [0.1, 0.2, 0.3];
placeholder p: bool[] = true;
variable w: f32[3] = [0.5, -0.5, 0.25];
variable v: f32[3] = [1.0, 2.0, 3.0];
fn cell(h, x) { tanh(h * w + x * v) }
let hf = fold(cell, h0, xs);
let loss = cond(p, sum(hf * hf), sum(hf) * sum(v));
let gw = grad(loss, w);
let g2 = grad(sum(gw * gw), v);
let inner = fold(|acc, x| acc + sum(fold(cell, x, xs)), 0.0, xs);
let gi = grad(inner, w);
run loss, gw, g2, gi;
";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module = crate::compile(source, dir).expect("builds");
    let mut optimised = module.clone();
    let stats = crate::opt::optimize(&mut optimised).expect("optimises");
    crate::ir::verify::verify_module(&optimised).expect("verifies");
    // Without the packed pruning the pipeline stopped at 459 of 684 nodes.
    assert!(stats.last() < 459, "{}", stats.to_text());
    let (before, after) = (run_all(&module), run_all(&optimised));
    for ((name, _), (a, b)) in module.names.iter().zip(before.iter().zip(&after)) {
        assert!(crate::opt::values::same_bits(a, b), "`{name}` differs");
    }
}

/// `d xs` of a fold whose step gradient reads nothing of the carried state
/// (`x` enters only through a comparison) while a float capture is carried:
/// pruning keeps none of the reverse scan's state but all its output rows.
/// It once built a `concat` of no inputs (an internal error at run time).
#[test]
fn scan_rows_without_live_state_keep_an_empty_state() {
    let source = "
placeholder xs: f32[3, 2] = randn(seed=3);
placeholder h0: f32[2] = randn(seed=9);
variable w: f32[2] = 0.4;
let hf = fold(|h, x| h * w + cast(x > 0.0, f32), h0, xs);
let loss = sum(hf * hf);
let dxs = grad(loss, xs);
let sxs = grad(loss, xs) + stop_gradient(xs);
run loss, dxs, sxs;
";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module = crate::compile(source, dir).expect("builds");
    let mut optimised = module.clone();
    crate::opt::optimize(&mut optimised).expect("optimises");
    crate::ir::verify::verify_module(&optimised).expect("verifies");
    let (before, after) = (run_all(&module), run_all(&optimised));
    for ((name, _), (a, b)) in module.names.iter().zip(before.iter().zip(&after)) {
        assert!(crate::opt::values::same_bits(a, b), "`{name}` differs");
    }
}
