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
    /// Per node: an `allreduce` that may reduce its input's buffer in place
    /// (no other node reads the input and it is not fetched).
    pub(crate) owns_input: Vec<bool>,
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
        let owns_input = sole_readers(graph, fetches);
        Ok(Program {
            schedule,
            regions,
            owns_input,
        })
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

/// Per node: whether it is an `allreduce` whose input nothing else reads
/// (no other node, no fetch).
fn sole_readers(graph: &Graph, fetches: &[NodeId]) -> Vec<bool> {
    let mut readers = vec![0usize; graph.len()];
    for node in &graph.nodes {
        for input in &node.inputs {
            readers[input.index()] += 1;
        }
    }
    for fetch in fetches {
        readers[fetch.index()] += 1;
    }
    (graph.nodes.iter())
        .map(|node| match (&node.op, &node.inputs[..]) {
            (Op::Allreduce { .. }, [input]) => readers[input.index()] == 1,
            _ => false,
        })
        .collect()
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
