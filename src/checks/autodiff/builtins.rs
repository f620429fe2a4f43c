//! `grad`, `minimize` and the optimisers, through the real builder and the
//! interpreter (f64 programs).

use crate::backend::{interp::run_step, StepInputs};
use crate::ir::{Module, Tensor};
use std::collections::HashMap;
use std::path::Path;

const NET: &str = "
    placeholder x: f64[4, 3] = randn(seed=1);
    placeholder y: f64[4, 2] = randn(seed=2);
    variable w1: f64[3, 5] = xavier(seed=3);
    variable w2: f64[5, 2] = xavier(seed=4);
    variable unused: f64[2] = 1.0;
    let scores = tanh(x @ w1) @ w2;
    let loss = mean_squared_error(scores, y);
";

struct Session {
    module: Module,
    placeholders: HashMap<String, Tensor>,
    variables: HashMap<String, Tensor>,
}

impl Session {
    fn new(source: &str) -> Session {
        let module = crate::compile(source, Path::new(".")).expect("the program builds");
        let placeholders = module
            .placeholders
            .iter()
            .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
            .collect();
        let variables = module
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.init.clone()))
            .collect();
        Session {
            module,
            placeholders,
            variables,
        }
    }

    /// One step: the fetched values (as f64 vectors); the assigns take effect.
    fn step(&mut self, fetches: &[&str]) -> Vec<Vec<f64>> {
        let ids: Vec<_> = fetches
            .iter()
            .map(|n| self.module.lookup(n).expect("a name"))
            .collect();
        let inputs = StepInputs {
            placeholders: &self.placeholders,
            variables: &self.variables,
        };
        let result = run_step(&self.module.graph, &ids, &inputs).expect("the step runs");
        for (name, value) in result.updates {
            self.variables.insert(name, value);
        }
        result.fetched.iter().map(|t| t.to_f64_vec()).collect()
    }

    fn var(&self, name: &str) -> Vec<f64> {
        self.variables[name].to_f64_vec()
    }
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn grads_of_one_loss_share_one_backward_pass() {
    let one = Session::new(&format!("{NET} let d1 = grad(loss, w1);"));
    let two = Session::new(&format!(
        "{NET} let d1 = grad(loss, w1); let d2 = grad(loss, w2);"
    ));
    // The second grad reuses the backward pass: it adds no node.
    assert_eq!(one.module.graph.len(), two.module.graph.len());
    let mut s = Session::new(&format!(
        "{NET} let d1 = grad(loss, w1); let du = grad(loss, unused); let dx = grad(loss, x);"
    ));
    let values = s.step(&["d1", "du", "dx"]);
    assert_eq!(values[1], vec![0.0, 0.0]);
    assert_eq!(values[0].len(), 15);
    assert_eq!(values[2].len(), 12);
}

#[test]
fn sgd_step_and_falling_loss() {
    let mut s = Session::new(&format!(
        "{NET} let d1 = grad(loss, w1); let d2 = grad(loss, w2); let train = minimize(loss, sgd(0.1));"
    ));
    let (w1, w2) = (s.var("w1"), s.var("w2"));
    let before = s.step(&["d1", "d2", "loss", "train"]);
    let expect =
        |w: &[f64], d: &[f64]| -> Vec<f64> { w.iter().zip(d).map(|(w, d)| w - 0.1 * d).collect() };
    close(&s.var("w1"), &expect(&w1, &before[0]));
    close(&s.var("w2"), &expect(&w2, &before[1]));
    assert_eq!(s.var("unused"), vec![1.0, 1.0]);
    for _ in 0..20 {
        s.step(&["train"]);
    }
    let after = s.step(&["loss"]);
    assert!(after[0][0] < before[2][0], "the loss falls");
}

#[test]
fn momentum_two_steps() {
    let mut s = Session::new(&format!(
        "{NET} let d2 = grad(loss, w2); let train = minimize(loss, momentum(0.1, beta=0.5), vars=[w2]);"
    ));
    let w1 = s.var("w1");
    let mut w = s.var("w2");
    let mut m = vec![0.0; w.len()];
    for _ in 0..2 {
        let d = s.step(&["d2", "train"]).remove(0);
        for i in 0..w.len() {
            m[i] = 0.5 * m[i] + d[i];
            w[i] -= 0.1 * m[i];
        }
        close(&s.var("w2"), &w);
        close(&s.var("w2.momentum"), &m);
    }
    assert_eq!(s.var("w1"), w1, "only the listed variables change");
}

#[test]
fn adam_two_steps() {
    let mut s = Session::new(&format!(
        "{NET} let d1 = grad(loss, w1); let train = minimize(loss, adam(0.01));"
    ));
    let mut w = s.var("w1");
    let (mut m, mut v) = (vec![0.0; w.len()], vec![0.0; w.len()]);
    let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
    for t in 1..=2 {
        let d = s.step(&["d1", "train"]).remove(0);
        for i in 0..w.len() {
            m[i] = b1 * m[i] + (1.0 - b1) * d[i];
            v[i] = b2 * v[i] + (1.0 - b2) * d[i] * d[i];
            let m_hat = m[i] / (1.0 - b1.powi(t));
            let v_hat = v[i] / (1.0 - b2.powi(t));
            w[i] -= 0.01 * m_hat / (v_hat.sqrt() + eps);
        }
        close(&s.var("w1"), &w);
        assert_eq!(s.var("w1.adam_t"), vec![t as f64]);
    }
    assert!(s.module.variable("w2.adam_m").is_some());
    assert!(s.module.variable("unused.adam_m").is_none());
    // One step count for every variable of a `minimize`.
    assert!(s.module.variable("w2.adam_t").is_none());
}

#[test]
fn each_adam_minimize_counts_its_own_steps() {
    let mut s = Session::new(&format!(
        "{NET} let a = minimize(loss, adam(0.01), vars=[w1]);
         let b = minimize(loss, adam(0.01), vars=[w2]);"
    ));
    for _ in 0..3 {
        s.step(&["a"]);
    }
    s.step(&["b"]);
    assert_eq!(s.var("w1.adam_t"), vec![3.0]);
    assert_eq!(s.var("w2.adam_t"), vec![1.0]);
}

fn build_error(source: &str) -> String {
    let program = format!("{NET} {source}");
    let diags = crate::compile(&program, Path::new(".")).expect_err("a build error");
    diags
        .iter()
        .map(|d| d.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn errors() {
    let cases = [
        ("let g = grad(scores, w1);", "must be a float scalar"),
        ("let g = grad(loss, w1 * 2.0);", "must name a variable"),
        (
            "let g = fold(|a, r| a + grad(loss, w1), w1, x);",
            "not allowed inside",
        ),
        (
            "let t = minimize(loss, rmsprop(0.1));",
            "the optimizer must be",
        ),
        ("let t = sgd(0.1);", "is an optimizer"),
        (
            "let t = minimize(loss, sgd(0.1), vars=[x]);",
            "float variable",
        ),
        ("let t = minimize(loss, sgd());", "missing argument `lr`"),
        (
            "let t = group(minimize(loss, sgd(0.1)), assign(w1, w1));",
            "assigned twice",
        ),
    ];
    for (source, expected) in cases {
        let message = build_error(source);
        assert!(message.contains(expected), "{source}: {message}");
    }
}

#[test]
fn second_order_through_max_pool2d_is_unsupported() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors/unsupported_grad.td");
    let source = std::fs::read_to_string(path).expect("the corpus file");
    let diags = crate::compile(&source, Path::new(".")).expect_err("unsupported");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, crate::diag::DiagKind::Unsupported);
    let span = diags[0].span.expect("a span");
    assert_eq!(&source[span.range()], "max_pool2d(x, [2, 2], [2, 2])");
    assert!(diags[0].message.contains("gradient of a gradient"));
}

/// `programs/NAME.td`: the loss before and after `steps` steps of its own `train`.
fn train_program(name: &str, steps: usize) -> (f64, f64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("programs/{name}.td"));
    let source = std::fs::read_to_string(path).expect("the program");
    let mut s = Session::new(&source);
    let before = s.step(&["loss"])[0][0];
    for _ in 0..steps {
        s.step(&["train"]);
    }
    (before, s.step(&["loss"])[0][0])
}

/// The training programs of `programs/` (plain SGD through `grad` and `assign`,
/// Adam and momentum through `minimize`) lower their loss.
#[test]
fn the_example_programs_train() {
    for (name, steps) in [
        ("two_layer_fc", 10),
        ("fold_rnn", 10),
        ("three_layer_convnet", 2),
    ] {
        let (a, b) = train_program(name, steps);
        assert!(b < a, "{name}: {a} -> {b}");
    }
}
