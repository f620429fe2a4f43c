//! End-to-end tests: source text -> parser -> builder; shapes, regions, literals.

use crate::diag::Diag;
use crate::ir::graph::{Graph, NodeId};
use crate::ir::module::Module;
use crate::ir::op::Op;
use crate::ir::tensor::Tensor;
use std::path::Path;

pub(super) fn build_src(src: &str) -> Result<Module, Vec<Diag>> {
    let program = crate::syntax::parser::parse(src)?;
    super::build(&program, Path::new(env!("CARGO_MANIFEST_DIR")))
}

pub(super) fn module(src: &str) -> Module {
    match build_src(src) {
        Ok(m) => {
            verify(&m);
            m
        }
        Err(diags) => panic!(
            "build failed:\n{}",
            crate::diag::render_all(&diags, "test.td", src)
        ),
    }
}

/// The type of top-level name `name`, as text.
pub(super) fn ty(m: &Module, name: &str) -> String {
    match m.lookup(name) {
        Some(id) => m.graph.ty(id).to_string(),
        None => panic!("no name `{name}`"),
    }
}

pub(super) fn node<'m>(m: &'m Module, name: &str) -> &'m crate::ir::Node {
    m.graph.node(m.lookup(name).expect("name exists"))
}

pub(super) fn values(m: &Module, name: &str) -> Vec<f64> {
    match &node(m, name).op {
        Op::Const(t) => t.to_f64_vec(),
        op => panic!("`{name}` is {op:?}, not a constant"),
    }
}

/// The IR verifier's checks of the module: graph, regions, declarations.
pub(super) fn verify(m: &Module) {
    if let Err(e) = crate::ir::verify::verify_module(m) {
        panic!("{e}");
    }
}

const TWO_LAYER: &str = include_str!("../../../programs/two_layer_fc.td");
const CONVNET: &str = include_str!("../../../programs/three_layer_convnet.td");

#[test]
fn two_layer_network_shapes() {
    let m = module(TWO_LAYER);
    assert_eq!(ty(&m, "scores"), "f32[64, 10]");
    assert_eq!(ty(&m, "loss"), "f32[]");
    let names: Vec<&str> = m.names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["x", "y", "w1", "w2", "scores", "loss", "dw1", "dw2", "train"]
    );
    assert_eq!(m.placeholders.len(), 2);
    let w1 = m.variable("w1").expect("w1");
    assert_eq!(w1.init.shape(), &[3072, 42]);
    let limit = (6.0f64 / (3072.0 + 42.0)).sqrt();
    assert!(w1.init.to_f64_vec().iter().all(|v| v.abs() <= limit));
    assert_eq!(m.runs.len(), 2);
    assert_eq!(m.runs[0].steps, 1);
    assert_eq!((m.runs[1].steps, m.runs[1].every), (100, Some(10)));
    assert_eq!(ty(&m, "dw1"), "f32[3072, 42]");
    assert!(matches!(node(&m, "loss").op, Op::MeanSquaredError));
}

#[test]
fn three_layer_convnet_shapes() {
    let m = module(CONVNET);
    assert_eq!(ty(&m, "x"), "f32[64, 32, 32, 3]");
    assert_eq!(ty(&m, "h1"), "f32[64, 32, 32, 6]");
    assert_eq!(ty(&m, "h2"), "f32[64, 32, 32, 9]");
    assert_eq!(ty(&m, "scores"), "f32[64, 10]");
    assert_eq!(ty(&m, "loss"), "f32[]");
    assert_eq!(ty(&m, "labels"), "i32[64]");
    let convs: Vec<_> = m
        .graph
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::Conv2d { strides, pads } => Some((*strides, *pads)),
            _ => None,
        })
        .collect();
    assert_eq!(convs, vec![([1, 1], [0; 4]), ([1, 1], [0; 4])]);
}

#[test]
fn every_example_program_builds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("programs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "td") {
            let src = std::fs::read_to_string(&path).expect("read");
            // Paths in a program are relative to its folder.
            let program = crate::syntax::parser::parse(&src).expect("parses");
            let m = super::build(&program, &dir)
                .unwrap_or_else(|d| panic!("{}: {:?}", path.display(), d[0].message));
            verify(&m);
            count += 1;
        }
    }
    assert!(count >= 7);
}

#[test]
fn weak_literals_take_the_tensor_dtype() {
    let m = module(
        "placeholder a: f32[3]; placeholder b: f64[3]; placeholder n: i32[3];
         let fa = 0.5 * a; let fb = 0.5 * b; let ni = n + 1; let ia = a + 1; let ib = 2 * b;
         let lit = 2 ** 3; let half = 1 / 2; let f = 0.5; let i = 3; let t = true;
         let l8 = lit * b; let arr = a + [1, 2, 3]; let neg = -2 ** 2; let cmp = a < 1;",
    );
    assert_eq!(ty(&m, "fa"), "f32[3]");
    assert_eq!(ty(&m, "fb"), "f64[3]");
    assert_eq!(ty(&m, "ni"), "i32[3]");
    assert_eq!(ty(&m, "ia"), "f32[3]");
    assert_eq!(ty(&m, "ib"), "f64[3]");
    assert_eq!(ty(&m, "lit"), "i32[]");
    assert_eq!(values(&m, "lit"), [8.0]);
    assert_eq!(ty(&m, "half"), "f32[]");
    assert_eq!(values(&m, "half"), [0.5]);
    assert_eq!(ty(&m, "f"), "f32[]");
    assert_eq!(ty(&m, "i"), "i32[]");
    assert_eq!(ty(&m, "t"), "bool[]");
    assert_eq!(ty(&m, "l8"), "f64[3]");
    assert_eq!(ty(&m, "arr"), "f32[3]");
    assert_eq!(values(&m, "neg"), [-4.0]);
    assert_eq!(ty(&m, "cmp"), "bool[3]");
}

#[test]
fn weak_lets_stay_weak_where_used() {
    // `lr` is a literal: f64 next to w64, f32 next to w32, and f32 when fetched.
    let m = module(
        "let lr = 0.01; variable w64: f64[2] = 1.0; variable w32: f32[2] = 1.0;
         let a = w64 - lr * w64; let b = w32 - lr * w32; run lr;",
    );
    assert_eq!(ty(&m, "a"), "f64[2]");
    assert_eq!(ty(&m, "b"), "f32[2]");
    assert_eq!(ty(&m, "lr"), "f32[]");
}

#[test]
fn items_in_any_order_and_blocks() {
    let m = module(
        "let y = f(x) + { let k = 2.0; k * k };
         fn f(v) { let two = 2.0; v * two }
         placeholder x: f32[4] = [1.0, 2.0, 3.0, 4.0];
         let z = { let y = 1; y + 1 };",
    );
    assert_eq!(ty(&m, "y"), "f32[4]");
    assert_eq!(values(&m, "z"), [2.0]);
    let names: Vec<&str> = m.names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["y", "x", "z"]);
    let x = m.placeholder("x").expect("x");
    assert_eq!(
        x.default.as_ref().map(Tensor::to_f64_vec),
        Some(vec![1.0, 2.0, 3.0, 4.0])
    );
}

fn find_op(g: &Graph, pred: impl Fn(&Op) -> bool) -> Option<NodeId> {
    g.ids().find(|id| pred(&g.node(*id).op))
}

#[test]
fn cond_regions_capture_outer_nodes() {
    let m = module(
        "placeholder p: bool[]; placeholder x: f32[3]; variable w: f32[3] = 2.0;
         let y = cond(p, x * w, -x);
         let z = cond(p, 0.0, sum(x));",
    );
    assert_eq!(ty(&m, "y"), "f32[3]");
    assert_eq!(ty(&m, "z"), "f32[]");
    let y = node(&m, "y");
    let Op::Cond {
        then_body,
        else_body,
    } = &y.op
    else {
        panic!("not a cond")
    };
    // Inputs: pred, then the captures x and w (shared by both branches).
    assert_eq!(y.inputs.len(), 3);
    assert_eq!(then_body.params, else_body.params);
    assert_eq!(then_body.params.len(), 2);
    assert!(find_op(then_body, |op| matches!(
        op,
        Op::Placeholder { .. } | Op::Variable { .. }
    ))
    .is_none());
    assert_eq!(then_body.results.len(), 1);
    // The literal branch of `z` became an f32[] constant inside its region.
    let Op::Cond { then_body, .. } = &node(&m, "z").op else {
        panic!("not a cond")
    };
    let r = then_body.results[0];
    assert!(matches!(then_body.node(r).op, Op::Const(_)));
    assert_eq!(then_body.ty(r).to_string(), "f32[]");
}

#[test]
fn fold_regions_with_fn_and_lambda() {
    let src = include_str!("../../../programs/fold_rnn.td");
    let m = module(src);
    assert_eq!(ty(&m, "h_final"), "f32[8, 32]");
    assert_eq!(ty(&m, "input_total"), "f32[]");
    let h = node(&m, "h_final");
    let Op::Fold { body } = &h.op else {
        panic!("not a fold")
    };
    // (acc, x, wx, wh, b): the weights are captured, never rebuilt.
    let params: Vec<String> = body.params.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        params,
        [
            "f32[8, 32]",
            "f32[8, 4]",
            "f32[4, 32]",
            "f32[32, 32]",
            "f32[32]"
        ]
    );
    assert_eq!(h.inputs.len(), 5);
    assert!(find_op(body, |op| matches!(op, Op::Variable { .. })).is_none());
}

#[test]
fn nested_regions_capture_through_every_level() {
    let m = module(
        "placeholder xs: f64[0, 3]; placeholder p: bool[]; variable w: f64[3] = 1.0;
         fn step(acc, x) { cond(p, acc + x * w, acc) }
         let s = fold(step, zeros([3], dtype=f64), xs);
         let t = fold(|acc, x| acc + sum(x), 0, xs);",
    );
    assert_eq!(ty(&m, "s"), "f64[3]");
    // A literal accumulator takes the dtype of xs.
    assert_eq!(ty(&m, "t"), "f64[]");
    let Op::Fold { body } = &node(&m, "s").op else {
        panic!("not a fold")
    };
    // The fold body captures p and w for the cond inside it.
    assert_eq!(body.params.len(), 4);
    let c = find_op(body, |op| matches!(op, Op::Cond { .. })).expect("cond in body");
    // pred, then the captures acc, x and w.
    assert_eq!(body.node(c).inputs.len(), 4);
}

#[test]
fn lambdas_see_enclosing_locals() {
    let m = module(
        "placeholder xs: f32[5, 2];
         fn total(xs, scale) { fold(|acc, x| acc + scale * x, [0.0, 0.0], xs) }
         let r = total(xs, 3.0);",
    );
    assert_eq!(ty(&m, "r"), "f32[2]");
}

mod errors;
mod fuzz;
mod ops;

#[test]
fn builds_without_values_compute_no_large_constructor() {
    let source =
        "placeholder x: f32[1000] = randn(seed=1);\nlet s = randn([4], seed=3);\nrun x, s;";
    let program = crate::syntax::parser::parse(source).expect("parses");
    let build = |values| {
        let options = super::BuildOptions {
            max_bytes: 1 << 30,
            values,
            data: Default::default(),
            ranks: 1,
        };
        super::build_timed(&program, Path::new("."), &options)
            .expect("builds")
            .0
    };
    let default = |m: &Module| {
        m.placeholder("x")
            .and_then(|p| p.default.as_ref())
            .map(Tensor::to_f64_vec)
            .unwrap_or_default()
    };
    // Off: the large value is a zero stand-in of the right type, the small one
    // (which `tdsl graph` prints) is computed.
    let shapes = build(false);
    assert_eq!(default(&shapes), vec![0.0; 1000]);
    let computed = build(true);
    assert_eq!(default(&computed).len(), 1000);
    assert!(default(&computed).iter().any(|v| *v != 0.0));
    let printed = |m: &Module| crate::ir::printer::to_text(&m.graph, &m.names);
    assert_eq!(printed(&shapes), printed(&computed));
}

#[test]
fn build_times_values_and_autodiff_apart() {
    let source = "variable w: f32[64, 64] = randn(seed=1);
        let loss = sum(w * w);
        let g = grad(loss, w);";
    let program = crate::syntax::parser::parse(source).expect("parses");
    let options = super::BuildOptions::default();
    let (module, times) = super::build_timed(&program, Path::new("."), &options).expect("builds");
    assert!(module.lookup("g").is_some());
    // Both phases ran inside the builder, so both were timed.
    assert!(times.values > std::time::Duration::ZERO, "{times:?}");
    assert!(times.autodiff > std::time::Duration::ZERO, "{times:?}");
    let none = "let c = 1.0 + 2.0;";
    let program = crate::syntax::parser::parse(none).expect("parses");
    let (_, times) = super::build_timed(&program, Path::new("."), &options).expect("builds");
    assert_eq!(times, crate::timing::Inner::default());
}
