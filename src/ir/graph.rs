//! The graph IR: typed nodes in an arena, in topological order.
//!
//! The top-level graph and every region (a `cond` branch, a `fold` body) is a
//! `Graph`. A region refers to its parameters with `Op::Param(i)`; it never refers
//! to the nodes of an enclosing graph directly: outer values it uses are passed
//! in as explicit captures (extra inputs of the `Cond`/`Fold` node).

use super::op::Op;
use super::types::TensorType;
use crate::diag::Span;
use std::fmt;

/// Index of a node in its graph's arena; printed `%7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub ty: TensorType,
    /// The source expression this node came from.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    /// Inputs precede their users.
    pub nodes: Vec<Node>,
    /// Types of the region's parameters (empty for the top-level graph).
    pub params: Vec<TensorType>,
    /// The region's results (empty for the top-level graph, whose outputs are
    /// named in `Module::names`).
    pub results: Vec<NodeId>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// A region with these parameter types.
    pub fn region(params: Vec<TensorType>) -> Graph {
        Graph {
            params,
            ..Graph::default()
        }
    }

    /// Appends a node; its inputs must already be in the graph.
    pub fn add(&mut self, op: Op, inputs: Vec<NodeId>, ty: TensorType, span: Span) -> NodeId {
        debug_assert!(inputs.iter().all(|i| i.index() < self.nodes.len()));
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node {
            op,
            inputs,
            ty,
            span,
        });
        id
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn ty(&self, id: NodeId) -> &TensorType {
        &self.nodes[id.index()].ty
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId)
    }
}
