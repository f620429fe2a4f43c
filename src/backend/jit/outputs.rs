//! Which leaf a fused kernel's stored value may overwrite: the rule of
//! `inplace.rs` ([`Executable::overwritable`]), shared by kernels with one
//! output and with several (`plan/multi.rs`).
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
use super::plan::Step;
use crate::ir::{NodeId, Op, UnaryOp};
use std::collections::HashMap;

/// Per stored value, the leaf it may overwrite; the variables overwritten
/// (name, node); their readers to run first (see `InPlace::defer`).
type Picks = (Vec<Option<usize>>, Vec<(String, NodeId)>, Vec<NodeId>);

/// Per variable name: its live nodes, and the node its live assign stores;
/// whether the step may fail (then no variable is overwritten).
#[derive(Default)]
pub(super) struct Owners<'g> {
    readers: HashMap<&'g str, Vec<NodeId>>,
    assigned: HashMap<&'g str, NodeId>,
    may_fail: bool,
}

impl Executable {
    /// Who reads and assigns each variable among the planned steps.
    pub(super) fn owners(&self) -> Owners<'_> {
        let live = |id: NodeId| !matches!(self.steps.get(id.index()), Some(Step::Unused) | None);
        let mut owners = Owners {
            may_fail: self.may_fail(),
            ..Owners::default()
        };
        for id in self.graph.ids().filter(|&id| live(id)) {
            let node = self.graph.node(id);
            match (&node.op, node.inputs.as_slice()) {
                (Op::Variable { name }, _) => owners.readers.entry(name).or_default().push(id),
                (Op::Assign { var }, [value]) => {
                    owners.assigned.insert(var, *value);
                }
                _ => {}
            }
        }
        owners
    }

    /// Whether a kernel of `group` may store `out` into leaf `leaf`'s buffer:
    /// the same type, not fetched, not also read through a view (a store could
    /// precede a view's load of that element), and either a pooled value
    /// (taken only if it dies there) or a variable read only there and
    /// assigned exactly `out`.
    pub(super) fn overwritable(
        &self,
        group: &Group,
        leaf: NodeId,
        out: NodeId,
        owners: &Owners,
    ) -> bool {
        let viewed = group.views.iter().any(|v| group.leaves[v.leaf] == leaf);
        if self.graph.ty(leaf) != self.graph.ty(out) || self.fetched[leaf.index()] || viewed {
            return false;
        }
        match &self.graph.node(leaf).op {
            Op::Variable { name } => {
                !owners.may_fail
                    && !self.in_region
                    && owners.readers.get(name.as_str()).map(Vec::as_slice) == Some(&[leaf])
                    && owners.assigned.get(name.as_str()) == Some(&out)
            }
            _ => pooled(self.steps.get(leaf.index())),
        }
    }

    /// The first variable among leaves `candidates` of `group` (its buffer
    /// then stays the variable's), else the first candidate.
    pub(super) fn variable_first(
        &self,
        group: &Group,
        candidates: impl Iterator<Item = usize> + Clone,
    ) -> Option<usize> {
        let var = |k: &usize| matches!(self.graph.node(group.leaves[*k]).op, Op::Variable { .. });
        candidates
            .clone()
            .find(var)
            .or_else(|| candidates.clone().next())
    }
}

impl Executable {
    /// The in-place plan of kernel `group` (several outputs).
    pub(super) fn plan_outputs(&self, group: &Group, owners: &Owners) -> Picks {
        let (mut picks, mut variables, mut defer) = (Vec::new(), Vec::new(), Vec::new());
        let Some(root) = group.root() else {
            return (picks, variables, defer);
        };
        for o in group.stored() {
            let loads = loaded(self, group, o);
            let candidates = (0..group.leaves.len()).filter(|&k| {
                loads[k]
                    && !picks.contains(&Some(k))
                    && self.overwritable(group, group.leaves[k], o, owners)
            });
            let pick = self.variable_first(group, candidates);
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
