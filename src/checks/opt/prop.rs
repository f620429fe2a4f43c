//! Property test: random well-typed graphs (`tests_gen.rs`) give the same
//! results with and without the optimiser (within 1e-6 relative; NaN
//! matches NaN); the interpreter fetches every name before and after
//! `optimize`.

use crate::backend::{interp::run_step, StepInputs};
use crate::ir::{Module, NodeId, Op, Tensor};
use crate::opt::tests::gen::random_module;
use proptest::prelude::*;
use std::collections::HashMap;

fn run(module: &Module, feeds: &HashMap<String, Tensor>) -> Vec<Vec<f64>> {
    let variables = HashMap::new();
    let inputs = StepInputs {
        placeholders: feeds,
        variables: &variables,
    };
    let fetches: Vec<NodeId> = module.names.iter().map(|(_, id)| *id).collect();
    run_step(&module.graph, &fetches, &inputs)
        .expect("the interpreter runs a well-typed graph")
        .fetched
        .iter()
        .map(Tensor::to_f64_vec)
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
        || (a.is_nan() && b.is_nan())
        || (a - b).abs() <= 1e-6 * a.abs().max(b.abs())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn optimised_graphs_compute_the_same_values(seed in any::<u64>(), steps in 4usize..24) {
        let (original, feeds) = random_module(seed, steps);
        crate::ir::verify::verify_module(&original).expect("the generator makes valid graphs");
        let mut optimised = original.clone();
        let stats = crate::opt::optimize(&mut optimised).expect("optimises");
        prop_assert!(stats.last() <= stats.initial);
        let before = run(&original, &feeds);
        let after = run(&optimised, &feeds);
        prop_assert_eq!(before.len(), after.len());
        for (k, (x, y)) in before.iter().zip(&after).enumerate() {
            prop_assert_eq!(x.len(), y.len());
            for (p, q) in x.iter().zip(y) {
                prop_assert!(close(*p, *q), "fetch {} ({}): {} vs {}", k, original.names[k].0, p, q);
            }
        }
    }
}

/// The generator covers what the optimiser rewrites: over a few seeds, every
/// pass changes something and regions appear.
#[test]
fn the_generator_exercises_every_pass() {
    let mut seen: HashMap<&'static str, bool> = HashMap::new();
    let (mut regions, mut nested) = (0, 0);
    for seed in 0..40 {
        let (mut m, _) = random_module(seed, 20);
        for node in &m.graph.nodes {
            let bodies: Vec<&crate::ir::Graph> = match &node.op {
                Op::Cond {
                    then_body,
                    else_body,
                } => vec![then_body, else_body],
                Op::Fold { body } => vec![body],
                _ => continue,
            };
            regions += 1;
            nested += bodies
                .iter()
                .flat_map(|g| &g.nodes)
                .filter(|n| matches!(n.op, Op::Cond { .. }))
                .count();
        }
        let stats = crate::opt::optimize(&mut m).expect("optimises");
        for r in stats.runs {
            *seen.entry(r.pass).or_default() |= r.changed;
        }
    }
    assert!(regions > 10, "{regions}");
    assert!(nested > 5, "{nested}");
    for pass in ["const-fold", "simplify", "cse", "dce"] {
        assert_eq!(seen.get(pass), Some(&true), "{pass}");
    }
}
