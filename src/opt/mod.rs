//! The graph optimiser: small passes over the IR run to a fixed point
//! (`docs/optimiser.md`). A pass sees one [`Graph`] whose `results` are its roots
//! (at the top level the fetchable names, which the [`PassManager`] installs and
//! writes back), so it may renumber nodes; each pass recurses into regions itself.

pub mod const_fold;
pub mod cse;
pub mod dce;
pub mod fold_state;
pub mod packed;
pub mod print;
pub mod rewrite;
pub mod simplify;
pub mod values;

#[cfg(test)]
pub(crate) mod tests;

use crate::diag::Diag;
use crate::ir::{Graph, Module};

/// One rewrite of a graph. `run` returns whether anything changed; an `Err` is a
/// bug in the pass (the manager turns it into an internal-compiler-error `Diag`).
pub trait Pass {
    fn name(&self) -> &'static str;
    /// Rewrites `graph`, whose `results` are the roots to keep.
    fn run(&self, graph: &mut Graph) -> Result<bool, String>;
}

/// Node count of one pass run, for `tdsl graph --opt --stats`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassStat {
    /// Fixed-point round, from 1.
    pub round: usize,
    pub pass: &'static str,
    /// Nodes (region nodes included) before and after the pass.
    pub before: usize,
    pub after: usize,
    pub changed: bool,
}

/// What a pipeline run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Node count before the first pass.
    pub initial: usize,
    pub runs: Vec<PassStat>,
    /// The IR as text after each run of the pass named in `PassManager::print_after`.
    pub dumps: Vec<(String, String)>,
}

impl Stats {
    /// Node count after the last pass (the initial count when no pass ran).
    pub fn last(&self) -> usize {
        self.runs.last().map_or(self.initial, |r| r.after)
    }

    /// One line per pass run, then a total:
    /// `round 1  const-fold   120 -> 118`, ..., `total 120 -> 80`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for r in &self.runs {
            out.push_str(&format!(
                "round {}  {:<12} {:>6} -> {:>6}{}\n",
                r.round,
                r.pass,
                r.before,
                r.after,
                if r.changed { "" } else { "  (no change)" }
            ));
        }
        out.push_str(&format!(
            "total {} -> {} nodes\n",
            self.initial,
            self.last()
        ));
        out
    }
}

/// Runs passes in order, to a fixed point, with stats and an optional IR dump.
pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
    /// Rounds of the whole sequence at most (each pass is cheap; 8 is plenty).
    pub max_rounds: usize,
    /// Print the IR (into `Stats::dumps`) after every run of the pass with this name.
    pub print_after: Option<String>,
    /// Run the verifier after every pass (on by default in tests and debug builds).
    pub verify: bool,
}

impl PassManager {
    pub fn new(passes: Vec<Box<dyn Pass>>) -> PassManager {
        PassManager {
            passes,
            max_rounds: 8,
            print_after: None,
            verify: cfg!(any(test, debug_assertions)),
        }
    }

    /// The default pipeline: fixed point of (const-fold, simplify, cse, dce).
    pub fn default_pipeline() -> PassManager {
        PassManager::new(vec![
            Box::new(const_fold::ConstFold),
            Box::new(simplify::Simplify),
            Box::new(cse::Cse),
            Box::new(dce::Dce),
        ])
    }

    /// The names of the passes, in order.
    pub fn pass_names(&self) -> Vec<&'static str> {
        self.passes.iter().map(|p| p.name()).collect()
    }

    /// Runs the passes to a fixed point (or `max_rounds`) on `module`.
    pub fn run(&self, module: &mut Module) -> Result<Stats, Diag> {
        let mut stats = Stats {
            initial: count_nodes(&module.graph),
            ..Stats::default()
        };
        for round in 1..=self.max_rounds.max(1) {
            let mut changed_any = false;
            for pass in &self.passes {
                let before = count_nodes(&module.graph);
                let changed = run_on_module(pass.as_ref(), module)
                    .map_err(|message| Diag::internal(pass.name(), message, None))?;
                if self.verify {
                    crate::ir::verify::verify_module(module).map_err(|message| {
                        Diag::internal(
                            pass.name(),
                            format!("the verifier rejects the graph after this pass: {message}"),
                            None,
                        )
                    })?;
                }
                let after = count_nodes(&module.graph);
                stats.runs.push(PassStat {
                    round,
                    pass: pass.name(),
                    before,
                    after,
                    changed,
                });
                if self.print_after.as_deref() == Some(pass.name()) {
                    stats.dumps.push((
                        format!("after {} (round {round})", pass.name()),
                        print::to_text(&module.graph, &module.names),
                    ));
                }
                changed_any |= changed;
            }
            if !changed_any {
                break;
            }
        }
        Ok(stats)
    }
}

/// Runs the default pipeline on `module`.
pub fn optimize(module: &mut Module) -> Result<Stats, Diag> {
    PassManager::default_pipeline().run(module)
}

/// Runs one pass on the top-level graph with the module's names as its roots,
/// then writes the (possibly renumbered) roots back into the names.
fn run_on_module(pass: &dyn Pass, module: &mut Module) -> Result<bool, String> {
    let saved = std::mem::take(&mut module.graph.results);
    module.graph.results = module.names.iter().map(|(_, id)| *id).collect();
    let result = pass.run(&mut module.graph);
    let roots = std::mem::replace(&mut module.graph.results, saved);
    let changed = result?;
    if roots.len() != module.names.len() {
        return Err(format!(
            "the pass returned {} roots for {} names",
            roots.len(),
            module.names.len()
        ));
    }
    for ((_, id), root) in module.names.iter_mut().zip(roots) {
        *id = root;
    }
    Ok(changed)
}

/// Nodes in `graph`, counting the nodes of its regions (recursively).
pub fn count_nodes(graph: &Graph) -> usize {
    graph
        .nodes
        .iter()
        .map(|node| {
            1 + node
                .op
                .regions()
                .iter()
                .map(|(_, r)| count_nodes(r))
                .sum::<usize>()
        })
        .sum()
}
