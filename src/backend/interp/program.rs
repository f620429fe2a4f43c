//! What the interpreter runs for one graph and fetch list: the shared
//! [`Schedule`] over the graph's nodes and, per `cond`/`fold`/`scan` node it
//! lists, the programs of its regions. Built once per executable.

use crate::backend::regions::{self, used_params};
use crate::backend::schedule::{Deps, Need, Schedule};
use crate::diag::Diag;
use crate::ir::{Graph, NodeId, Op};
use crate::kernels::eval::internal;
use std::collections::HashMap;

pub(crate) struct Program {
    pub(crate) schedule: Schedule,
    /// Per region node: its regions' programs (then and else, or the body).
    regions: HashMap<NodeId, Vec<Program>>,
}

impl Program {
    /// The program of what `fetches` of `graph` need (a region's fetches are
    /// its results).
    pub(crate) fn new(graph: &Graph, fetches: &[NodeId]) -> Result<Program, Diag> {
        let schedule = Schedule::new(&Nodes(graph), fetches)?;
        let mut regions = HashMap::new();
        for id in schedule.nodes() {
            let bodies = graph.node(id).op.regions();
            if bodies.is_empty() {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = regions.entry(id) {
                let programs = bodies.into_iter().map(|(_, r)| Program::new(r, &r.results));
                slot.insert(programs.collect::<Result<_, _>>()?);
            }
        }
        Ok(Program { schedule, regions })
    }

    /// The program of region `k` of node `id` (0 a `cond`'s then branch or
    /// a loop's body, 1 the else branch).
    pub(crate) fn region(&self, graph: &Graph, id: NodeId, k: usize) -> Result<&Program, Diag> {
        self.regions
            .get(&id)
            .and_then(|r| r.get(k))
            .ok_or_else(|| internal(graph.node(id), "has no region program"))
    }
}

/// The interpreter's unit of work: a node and its inputs (a loop only the
/// captures its body uses).
struct Nodes<'g>(&'g Graph);

impl Deps for Nodes<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn need(&self, id: NodeId) -> Result<Need, Diag> {
        let node = self.0.node(id);
        match &node.op {
            Op::Cond {
                then_body,
                else_body,
            } => regions::need(node, &[used_params(then_body), used_params(else_body)]),
            Op::Fold { body } | Op::Scan { body, .. } => regions::need(node, &[used_params(body)]),
            _ => Ok(Need::Inputs(node.inputs.clone())),
        }
    }
}
