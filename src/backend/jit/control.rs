//! `cond` and `fold` as native control flow (autodiff's `scan` in [`super::scan`]).
//!
//! Each region (a branch, a fold body) is compiled into its own
//! [`Executable`] (planned and fused like the top level, regions inside it
//! compiled recursively) whose `Op::Param` nodes read the values passed in.
//! A `cond` runs only its taken branch; a `fold` runs its body once per row of
//! `xs`, the accumulator passed from one run to the next, with no interpreter
//! in between. Captures a region does not use are not computed nor passed
//! (the interpreter's rule, [`used_params`]).
//!
//! Per fold iteration nothing is allocated in steady state: the body's memo is
//! reused, `xs[t]` is copied into one reused row buffer, and the previous
//! accumulator goes back to the body's pool for the next output
//! (ping-pong).

mod loops;

pub(crate) use loops::start;

use super::codegen::Jit;
use super::exec::{at, Env, Executable, Scratch};
use super::kinds::{RegionId, Table};
use super::tensors::Val;
use super::Options;
use crate::backend::regions::{predicate, used_params};
use crate::backend::schedule::Need;
use crate::diag::Diag;
use crate::ir::{Graph, Node, NodeId, Op};
use std::sync::Arc;

/// The compiled regions of one `cond` or `fold` node.
pub(crate) enum Region {
    Cond {
        then_body: Code,
        else_body: Code,
    },
    Fold {
        body: Code,
    },
    /// Autodiff's `scan` ([`super::scan`]).
    Scan {
        body: Code,
        reverse: bool,
        carry: usize,
    },
}

/// A compiled region and which of its parameters its result depends on.
pub(crate) struct Code {
    pub(crate) exe: Box<Executable>,
    pub(super) used: Vec<bool>,
}

impl Region {
    pub(crate) fn codes(&self) -> Vec<&Code> {
        match self {
            Region::Cond {
                then_body,
                else_body,
            } => vec![then_body, else_body],
            Region::Fold { body } | Region::Scan { body, .. } => vec![body],
        }
    }
}

/// Compiles the regions of the `cond`/`fold` nodes `nodes` of `graph`.
pub(super) fn compile_regions(
    graph: &Graph,
    nodes: &Table<RegionId, NodeId>,
    options: Options,
    jit: &mut Jit,
) -> Result<Table<RegionId, Region>, Diag> {
    let mut code = |node: &Node, region: &Graph| -> Result<Code, Diag> {
        let [result] = region.results[..] else {
            return Err(at(
                node,
                format!(
                    "a region must have one result, not {}",
                    region.results.len()
                ),
            ));
        };
        let exe = super::compile_graph(region, &[result], options, jit, true)?;
        Ok(Code {
            exe: Box::new(exe),
            used: used_params(region),
        })
    };
    nodes
        .iter()
        .map(|&id| {
            let node = graph.node(id);
            match &node.op {
                Op::Cond {
                    then_body,
                    else_body,
                } => Ok(Region::Cond {
                    then_body: code(node, then_body)?,
                    else_body: code(node, else_body)?,
                }),
                Op::Fold { body } => Ok(Region::Fold {
                    body: code(node, body)?,
                }),
                Op::Scan {
                    body,
                    reverse,
                    carry,
                } => Ok(Region::Scan {
                    body: code(node, body)?,
                    reverse: *reverse,
                    carry: *carry,
                }),
                _ => Err(at(node, "is not a cond or a fold")),
            }
        })
        .collect()
}

impl Executable {
    /// Number of compiled regions (branches and fold bodies), nested ones
    /// included.
    pub fn region_count(&self) -> usize {
        self.regions
            .iter()
            .flat_map(Region::codes)
            .map(|c| 1 + c.exe.region_count())
            .sum()
    }

    /// Native kernels (fused, matmul, reduction) of this executable and of
    /// every region compiled in it.
    pub fn total_kernels(&self) -> usize {
        let own = self.fused.len() + self.matmuls.len() + self.reductions.len();
        own + self
            .regions
            .iter()
            .flat_map(Region::codes)
            .map(|c| c.exe.total_kernels())
            .sum::<usize>()
    }

    /// The inputs `cond`/`fold` node `node` (region entry `r`) reads,
    /// appended to `out`: the predicate and the captures of the taken branch;
    /// or the init, `xs` and the captures the body uses.
    pub(super) fn region_deps(
        &self,
        r: RegionId,
        node: &Node,
        memo: &[Option<Val>],
        out: &mut Vec<NodeId>,
    ) -> Result<(), Diag> {
        match self.region_need(r, node)? {
            Need::Inputs(reads) => out.extend(reads),
            Need::Cond { pred, branches } => {
                let [then, other] = branches;
                let taken = predicate(node, get(memo, node, pred)?)?;
                out.push(pred);
                out.extend(if taken { then } else { other });
            }
        }
        Ok(())
    }

    /// What `cond`/`fold` node `node` (region entry `r`) reads, for the
    /// schedule.
    pub(super) fn region_need(&self, r: RegionId, node: &Node) -> Result<Need, Diag> {
        let region = self.regions.get(r);
        let region = region.ok_or_else(|| at(node, "has no compiled region"))?;
        let used: Vec<Vec<bool>> = region.codes().iter().map(|c| c.used.clone()).collect();
        crate::backend::regions::need(node, &used)
    }

    /// Runs `cond`/`fold` node `node` (region entry `r`), whose needed inputs
    /// are in `memo`.
    pub(super) fn run_region_op<'s>(
        &self,
        r: RegionId,
        node: &Node,
        memo: &[Option<Val<'s>>],
        env: Env<'_, 's>,
    ) -> Result<Val<'s>, Diag> {
        match self.regions.get(r) {
            Some(Region::Cond {
                then_body,
                else_body,
            }) => {
                let pred = node
                    .inputs
                    .first()
                    .ok_or_else(|| at(node, "has no predicate"))?;
                let taken = predicate(node, get(memo, node, *pred)?)?;
                let code = if taken { then_body } else { else_body };
                let params = bind(memo, node, &node.inputs[1..], &code.used)?;
                let mut scratch = Scratch::new(&code.exe);
                let env = Env {
                    inputs: env.inputs,
                    params: &params,
                    word: env.word,
                };
                code.exe.run_region(env, &mut scratch)
            }
            Some(Region::Fold { body }) => fold(body, node, memo, env),
            Some(Region::Scan {
                body,
                reverse,
                carry,
            }) => super::scan::scan(body, (*reverse, *carry), node, memo, env),
            None => Err(at(node, "has no compiled region")),
        }
    }
}

/// `fold(body, init, xs)`: inputs `[init, xs, captures...]`, the body's params
/// `(acc, x, captures...)`; for `t` in `0..len(xs)`: `acc = body(acc, xs[t], ...)`.
fn fold<'s>(
    body: &Code,
    node: &Node,
    memo: &[Option<Val<'s>>],
    env: Env<'_, 's>,
) -> Result<Val<'s>, Diag> {
    let exe = &body.exe;
    let mut run = start(body, node, memo)?;
    for t in 0..run.steps {
        let acc = run.step(exe, node, env, t)?;
        let old = run.params[0].replace(acc);
        if let (true, Some(Val::Shared(old))) = (run.result_pooled, old) {
            if let Ok(old) = Arc::try_unwrap(old) {
                exe.pool.give(old);
            }
        }
    }
    run.finish(exe);
    run.params[0]
        .take()
        .ok_or_else(|| at(node, "the fold has no accumulator"))
}

/// The computed value of input `k` of `node`.
pub(super) fn get<'m, 's>(
    memo: &'m [Option<Val<'s>>],
    node: &Node,
    k: NodeId,
) -> Result<&'m Val<'s>, Diag> {
    memo.get(k.index())
        .and_then(Option::as_ref)
        .ok_or_else(|| at(node, format!("input {k} was not computed")))
}

/// The region parameters bound to `captures`: those the region does not use
/// were not computed and stay `None`.
pub(super) fn bind<'s>(
    memo: &[Option<Val<'s>>],
    node: &Node,
    captures: &[NodeId],
    used: &[bool],
) -> Result<Vec<Option<Val<'s>>>, Diag> {
    if captures.len() != used.len() {
        return Err(at(
            node,
            format!(
                "the region takes {} captures but {} were passed",
                used.len(),
                captures.len()
            ),
        ));
    }
    captures
        .iter()
        .zip(used)
        .map(|(&c, &u)| {
            Ok(if u {
                Some(get(memo, node, c)?.clone())
            } else {
                None
            })
        })
        .collect()
}
