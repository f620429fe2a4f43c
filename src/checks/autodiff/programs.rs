//! Whole programs built by the real builder (in f64, small shapes), then
//! differentiated: every gradient element is checked by central differences.
//! These exercise the graphs the builder really makes (captures, inlined `fn`s,
//! `flatten`, weak literals, nested regions).

use super::util::{run_on_both, verify};
use crate::autodiff::backward;
use crate::backend::{interp::run_step, StepInputs};
use crate::ir::{Module, NodeId, Tensor};
use std::collections::HashMap;
use std::path::Path;

struct Feeds {
    placeholders: HashMap<String, Tensor>,
    variables: HashMap<String, Tensor>,
}

impl Feeds {
    fn of(module: &Module, extra: &[(&str, Tensor)]) -> Feeds {
        let mut placeholders: HashMap<String, Tensor> = module
            .placeholders
            .iter()
            .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
            .collect();
        for (name, t) in extra {
            placeholders.insert(name.to_string(), t.clone());
        }
        let variables = module
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.init.clone()))
            .collect();
        Feeds {
            placeholders,
            variables,
        }
    }

    fn run(&self, graph: &crate::ir::Graph, fetches: &[NodeId]) -> Vec<Tensor> {
        let inputs = StepInputs {
            placeholders: &self.placeholders,
            variables: &self.variables,
        };
        run_step(graph, fetches, &inputs).expect("run").fetched
    }

    /// [`Feeds::run`] on both backends (asserting they agree).
    fn run_on_both(&self, graph: &crate::ir::Graph, fetches: &[NodeId]) -> Vec<Tensor> {
        let inputs = StepInputs {
            placeholders: &self.placeholders,
            variables: &self.variables,
        };
        run_on_both(graph, fetches, &inputs).expect("run")
    }

    fn slot(&mut self, name: &str) -> &mut Tensor {
        if self.placeholders.contains_key(name) {
            self.placeholders.get_mut(name).unwrap()
        } else {
            self.variables
                .get_mut(name)
                .expect("a placeholder or variable")
        }
    }
}

/// Checks `grad(loss, x)` for each `x` in `wrt` (placeholders or variables).
fn check_program(source: &str, loss: &str, wrt: &[&str], extra: &[(&str, Tensor)]) {
    let module = crate::compile(source, Path::new(".")).expect("the program builds");
    let mut graph = module.graph.clone();
    let y = module.lookup(loss).expect("loss");
    let adjoints = backward(&mut graph, y).expect("backward");
    // Backward nodes keep the span of the forward node they differentiate.
    let spans: std::collections::HashSet<_> = module.graph.nodes.iter().map(|n| n.span).collect();
    for node in &graph.nodes[module.graph.len()..] {
        assert!(
            spans.contains(&node.span),
            "{} has a new span",
            node.op.name()
        );
    }
    let grads: Vec<NodeId> = wrt
        .iter()
        .map(|name| adjoints.of(&mut graph, module.lookup(name).expect("name")))
        .collect();
    verify(&graph);
    let mut feeds = Feeds::of(&module, extra);
    let analytic = feeds.run_on_both(&graph, &grads);
    let eps = 1e-6;
    for (k, name) in wrt.iter().enumerate() {
        let base = feeds.slot(name).clone();
        let values = base.to_f64_vec();
        let got = analytic[k].to_f64_vec();
        assert_eq!(got.len(), values.len(), "{name}: gradient size");
        for i in 0..values.len() {
            let mut at = |delta: f64| {
                let mut shifted = values.clone();
                shifted[i] += delta;
                *feeds.slot(name) = Tensor::from_f64_vec(&base.ty(), shifted).unwrap();
                let value = feeds.run(&module.graph, &[y])[0].to_f64_vec()[0];
                *feeds.slot(name) = base.clone();
                value
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            let tolerance = 1e-6 * (1.0 + numeric.abs().max(got[i].abs()));
            assert!(
                (got[i] - numeric).abs() <= tolerance,
                "{name}[{i}]: autodiff {} vs finite differences {numeric}",
                got[i]
            );
        }
    }
}

#[test]
fn two_layer_fc() {
    let source = "
        placeholder x: f64[4, 2, 2, 3] = randn(seed=1);
        placeholder y: f64[4, 5] = randn(seed=2);
        variable w1: f64[12, 6] = xavier(seed=3);
        variable w2: f64[6, 5] = xavier(seed=4);
        fn two_layer_fc(x, w1, w2) {
            let h = relu(flatten(x) @ w1);
            h @ w2
        }
        let scores = two_layer_fc(x, w1, w2);
        let loss = mean_squared_error(scores, y);
    ";
    check_program(source, "loss", &["w1", "w2", "x"], &[]);
}

#[test]
fn small_convnet() {
    let source = "
        placeholder x: f64[2, 6, 6, 2] = randn(seed=1);
        variable w1: f64[3, 3, 2, 3] = xavier(seed=2);
        variable b1: f64[3] = 0.1;
        variable w2: f64[2, 2, 3, 4] = xavier(seed=3);
        variable fc: f64[36, 3] = xavier(seed=4);
        let h1 = relu(conv2d(pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), w1) + b1);
        let p1 = max_pool2d(h1, [2, 2], [2, 2]);
        let h2 = tanh(conv2d(p1, w2, strides=[1, 1], padding=\"SAME\"));
        let scores = flatten(h2) @ fc;
        let labels = argmax(randn([2, 3], seed=5), 1);
        let loss = softmax_cross_entropy(scores, cast(one_hot(labels, 3), f64));
    ";
    check_program(source, "loss", &["w1", "b1", "w2", "fc", "x"], &[]);
}

#[test]
fn cond_program_both_branches() {
    let source = "
        placeholder x: f64[4] = [1.0, -2.0, 3.0, -4.0];
        placeholder square: bool[] = true;
        variable w: f64[4] = [0.5, 1.5, -1.0, 2.0];
        let y = cond(square, x * x * w, -x + w);
        let total = sum(y);
        let scaled = cond(total > 10.0, { let half = total / 2.0; half * half }, total * 2.0);
        let pick = cond(max(x) > 2.0, max(x * w), min(x));
        let loss = scaled + pick;
    ";
    for square in [true, false] {
        let pred = Tensor::scalar(crate::ir::DType::Bool, if square { 1.0 } else { 0.0 });
        check_program(source, "loss", &["x", "w"], &[("square", pred)]);
    }
}

#[test]
fn rnn_program() {
    let source = "
        placeholder xs: f64[5, 2, 3] = randn(seed=1);
        placeholder h0: f64[2, 4] = randn(seed=6);
        placeholder target: f64[2, 1] = randn(seed=5);
        variable wx: f64[3, 4] = xavier(seed=2);
        variable wh: f64[4, 4] = xavier(seed=3);
        variable b: f64[4] = 0.1;
        variable wo: f64[4, 1] = xavier(seed=4);
        fn cell(h, x) {
            tanh(x @ wx + h @ wh + b)
        }
        let h_final = fold(cell, h0, xs);
        let pred = h_final @ wo;
        let input_total = fold(|acc, x| acc + sum(x * x), 0.0, xs);
        let loss = mean_squared_error(pred, target) + 0.1 * input_total;
    ";
    check_program(source, "loss", &["wx", "wh", "b", "wo", "h0", "xs"], &[]);
}

#[test]
fn softmax_family_and_reductions() {
    let source = "
        placeholder x: f64[3, 4] = randn(seed=1);
        variable w: f64[4, 4] = xavier(seed=2);
        let z = x @ w;
        let s = softmax(z, axis=0);
        let l = log_softmax(z);
        let m = mean(maximum(z, 0.2) * minimum(z, 0.1), axis=1, keepdims=true);
        let loss = sum(s * l) + sum(m ** 2) + max(abs(z)) + mean(exp(-z) / (1.0 + sqrt(z * z + 1.0)));
    ";
    check_program(source, "loss", &["x", "w"], &[]);
}

#[test]
fn fold_inside_a_cond_inside_a_fold() {
    let source = "
        placeholder xs: f64[3, 2] = randn(seed=1);
        placeholder flag: bool[] = true;
        variable w: f64[2] = [0.5, -0.3];
        let r = cond(flag, fold(|acc, x| acc * w + sin(x), w, xs), w * 2.0);
        let outer = fold(|acc, x| cond(sum(x) > 0.0, acc * r, acc + x), r, xs);
        let loss = sum(outer * outer);
    ";
    for flag in [true, false] {
        let pred = Tensor::scalar(crate::ir::DType::Bool, if flag { 1.0 } else { 0.0 });
        check_program(source, "loss", &["w", "xs"], &[("flag", pred)]);
    }
}

/// Random ops inside a `fold` body draw per iteration (`Op::Iteration`); the
/// reverse loop recomputes the same masks and noise, so the gradient through
/// the fold (and through a `cond` and a nested `fold` in its body) matches
/// finite differences, on both backends.
#[test]
fn dropout_and_noise_inside_fold() {
    let source = "
        placeholder xs: f64[4, 2, 3] = randn(seed=1);
        placeholder h0: f64[2, 4] = randn(seed=6);
        variable wx: f64[3, 4] = xavier(seed=2);
        variable wh: f64[4, 4] = xavier(seed=3);
        variable wo: f64[4, 1] = xavier(seed=4);
        fn cell(h, x) {
            let z = dropout(x @ wx + h @ wh, 0.5, seed=7) + 0.1 * random_normal([2, 4], seed=8, dtype=f64);
            let z = cond(sum(z) > 0.0, z * dropout(z, 0.3), tanh(z));
            tanh(fold(|a, r| a + dropout(r * a, 0.5, seed=9), z, xs[0:2, 0:2, 0:1] * 0.5 + 1.0) * 0.5)
        }
        let h_final = fold(cell, h0, xs);
        let loss = sum(sin(h_final @ wo));
    ";
    check_program(source, "loss", &["wx", "wh", "wo", "h0", "xs"], &[]);
}
