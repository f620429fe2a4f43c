//! In-place writes of a fused kernel with several outputs (`plan/multi.rs`):
//! which leaf each stored value may overwrite.
//!
//! The rule of `inplace.rs` per output (same type, not fetched; a pooled
//! intermediate dying here, or a variable read only here and assigned this
//! very output), each leaf taken by at most one output, plus one more
//! condition: the output's own computation loads the leaf in the element
//! loop (through members other than the blocked `exp`/`sigmoid`, whose
//! arguments are read a block ahead). The kernel loads each leaf once per
//! element (`Fused::compute_many`), and Cranelift places that pure load at
//! its first use: before the store of an output that needs it. So at every
//! element, the one load of an overwritten leaf precedes the store into its
//! buffer, and every other output computes from the loaded value; other
//! elements are at other addresses.

use super::exec::{pooled, Executable};
use super::fused::Group;
use crate::ir::{NodeId, Op, UnaryOp};
use std::collections::HashMap;

/// Per stored value, the leaf it may overwrite; the variables overwritten
/// (name, node); their readers to run first (see `InPlace::defer`).
type Picks = (Vec<Option<usize>>, Vec<(String, NodeId)>, Vec<NodeId>);

impl Executable {
    /// The in-place plan of kernel `group` (several outputs); `readers` and
    /// `assigned` as in `plan_in_place`.
    pub(super) fn plan_outputs(
        &self,
        group: &Group,
        readers: &HashMap<&str, Vec<NodeId>>,
        assigned: &HashMap<&str, NodeId>,
        may_fail: bool,
    ) -> Picks {
        let (mut picks, mut variables, mut defer) = (Vec::new(), Vec::new(), Vec::new());
        let Some(root) = group.root() else {
            return (picks, variables, defer);
        };
        for o in group.stored() {
            let loads = loaded(self, group, o);
            let ty = self.graph.ty(o);
            let candidate = |k: &usize| -> bool {
                let leaf = group.leaves[*k];
                if !loads[*k] || picks.contains(&Some(*k)) {
                    return false;
                }
                if self.graph.ty(leaf) != ty || self.fetched[leaf.index()] {
                    return false;
                }
                // A buffer also read through a view is read at other
                // elements than the one written.
                if group.views.iter().any(|v| group.leaves[v.leaf] == leaf) {
                    return false;
                }
                match &self.graph.node(leaf).op {
                    Op::Variable { name } => {
                        !may_fail
                            && !self.in_region
                            && readers.get(name.as_str()).map(Vec::as_slice) == Some(&[leaf])
                            && assigned.get(name.as_str()) == Some(&o)
                    }
                    _ => pooled(self.steps.get(leaf.index())),
                }
            };
            let found: Vec<usize> = (0..group.leaves.len()).filter(candidate).collect();
            let var =
                |k: &&usize| matches!(self.graph.node(group.leaves[**k]).op, Op::Variable { .. });
            let pick = found.iter().find(var).or(found.first()).copied();
            if let Some(k) = pick {
                let leaf = group.leaves[k];
                if let Op::Variable { name } = &self.graph.node(leaf).op {
                    variables.push((name.clone(), leaf));
                    defer.extend(self.readers_before(leaf, root));
                }
            }
            picks.push(pick);
        }
        defer.sort();
        defer.dedup();
        (picks, variables, defer)
    }

    /// The output of a kernel with several outputs that may overwrite
    /// variable node `node`.
    pub(super) fn in_place_output(&self, node: NodeId) -> Option<NodeId> {
        let mut kernels = self.fused.iter().zip(&self.in_place.outputs);
        kernels.find_map(|(f, picks)| {
            let group = &f.group;
            let stored = group.stored();
            let k = group.leaves.iter().position(|&l| l == node)?;
            let j = picks.iter().position(|&p| p == Some(k))?;
            stored.get(j).copied()
        })
    }
}

/// Per leaf of `group`: whether computing `out` loads it in the element
/// loop (through members other than blocked `exp`/`sigmoid`).
fn loaded(exe: &Executable, group: &Group, out: NodeId) -> Vec<bool> {
    let mut loads = vec![false; group.leaves.len()];
    let mut seen = vec![out];
    let mut stack = vec![out];
    while let Some(id) = stack.pop() {
        let node = exe.graph.node(id);
        if matches!(node.op, Op::Unary(UnaryOp::Exp | UnaryOp::Sigmoid)) {
            continue;
        }
        for &input in &node.inputs {
            if let Some(k) = group.leaf_of(input) {
                loads[k] = true;
            } else if group.members.contains(&input) && !seen.contains(&input) {
                seen.push(input);
                stack.push(input);
            }
        }
    }
    loads
}
