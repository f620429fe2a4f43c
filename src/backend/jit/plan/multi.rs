//! Kernels with several outputs: fused elementwise groups whose roots have
//! the same shape and dtype become one kernel that reads every leaf once and
//! stores every root (`Group::outputs`), when none of the kernel's leaves
//! needs one of its roots first (a root read by another merged group is a
//! member, computed in registers). Adam's update of a variable is then one
//! pass over `g`, `m`, `s`, `w` writing `m'`, `s'`, `w'` instead of three.
//!
//! The merged kernel runs at its last root (`Step::Fused`); every other root
//! is a `Step::Output` that depends on it. Each element's values are those of
//! the separate kernels (the same ops on the same inputs), so results are
//! bitwise unchanged.

use crate::backend::jit::fused::{vectorizes, Group};
use crate::backend::jit::kinds::{FusedId, MatMulId, ReduceId, Table};
use crate::backend::jit::matmul::MatMul;
use crate::backend::jit::nest::Nest;
use crate::backend::jit::plan::Step;
use crate::backend::jit::reduce::Reduction;
use crate::backend::jit::switch::{self, Feature};
use crate::diag::Diag;
use crate::ir::{Graph, NodeId};
use std::collections::HashSet;

/// At most this many operands (leaves and outputs) in a merged kernel: the
/// operand types of a call are listed on the stack up to 16, and a longer
/// body spills.
const MAX_OPERANDS: usize = 16;

impl Group {
    /// Every value the kernel stores, in the order of its output operands
    /// (after the leaves): [`Group::outputs`], then the root.
    pub(crate) fn stored(&self) -> Vec<NodeId> {
        self.each_stored().collect()
    }

    /// [`Group::stored`] without collecting it (a kernel call walks it every
    /// step).
    pub(crate) fn each_stored(&self) -> impl Iterator<Item = NodeId> + Clone + '_ {
        self.outputs.iter().copied().chain(self.root())
    }
}

/// At most this many clusters of a root's type are tried for it.
const MAX_TRIES: usize = 8;

/// Merges `groups` into kernels with several outputs; `deps[i]`: what node
/// `i`'s own step reads (before merging). Marks the roots stored by another
/// group's kernel `Step::Output` and renumbers `Step::Fused`.
pub(crate) fn merge_outputs(
    graph: &Graph,
    steps: &mut [Step],
    groups: Table<FusedId, Group>,
    deps: &[Vec<NodeId>],
) -> Result<Table<FusedId, Group>, Diag> {
    // Clusters of group indices, each with its merged group.
    let mut clusters: Vec<(Vec<usize>, Group)> = Vec::new();
    // Per node: the cluster whose root it is.
    let mut cluster_of: Vec<Option<usize>> = vec![None; graph.len()];
    for (g, group) in groups.iter().enumerate() {
        let Some(root) = group.root().filter(|_| merging()) else {
            clusters.push((vec![g], group.clone()));
            continue;
        };
        let same = |c: &usize| clusters[*c].1.root().map(|r| graph.ty(r)) == Some(graph.ty(root));
        // The latest clusters of the type first, a few at most (each try
        // walks the graph).
        let mut tries = (0..clusters.len()).rev().filter(same).take(MAX_TRIES);
        let found = eligible(graph, group).then(|| {
            tries.find_map(|c| {
                let merged = merge(&clusters[c].1, group)?;
                let ok = eligible(graph, &merged)
                    && !needs_own_root(&merged, deps, &cluster_of, &clusters);
                ok.then_some((c, merged))
            })
        });
        match found.flatten() {
            Some((c, merged)) => {
                clusters[c].0.push(g);
                clusters[c].1 = merged;
                for r in clusters[c].1.stored() {
                    cluster_of[r.index()] = Some(c);
                }
            }
            None => {
                cluster_of[root.index()] = Some(clusters.len());
                clusters.push((vec![g], group.clone()));
            }
        }
    }
    // The clusters in order of their first group, each a group of the table.
    clusters.sort_by_key(|(gs, _)| gs.first().copied());
    let mut kept = Table::new();
    for (_, group) in clusters {
        let root = group.root();
        let outputs = group.outputs.clone();
        let id = kept.push(group);
        if let Some(r) = root {
            steps[r.index()] = Step::Fused(id);
        }
        for o in outputs {
            steps[o.index()] = Step::Output(id);
        }
    }
    Ok(kept)
}

/// Whether groups are merged (off in tests comparing with single outputs,
/// see [`without_merging`]).
fn merging() -> bool {
    switch::on(Feature::Merging)
}

/// Runs `f` with no kernel with several outputs compiled on this thread.
#[cfg(test)]
pub(crate) fn without_merging<T>(f: impl FnOnce() -> T) -> T {
    switch::without(Feature::Merging, f)
}

/// Per node: what its step reads (a group its leaves, a reduction its
/// leaves, its side output the reduction, a matmul its operands, any other
/// computed node its inputs).
pub(crate) fn step_deps(
    graph: &Graph,
    steps: &[Step],
    groups: &Table<FusedId, Group>,
    matmuls: &Table<MatMulId, MatMul>,
    reductions: &Table<ReduceId, Reduction>,
) -> Vec<Vec<NodeId>> {
    let step = |(i, s): (usize, &Step)| match s {
        Step::Unused | Step::Inlined => Vec::new(),
        Step::Fused(g) => groups[*g].leaves.clone(),
        Step::Reduce(r) => reductions[*r].group.leaves.clone(),
        Step::Side(r) => vec![reductions[*r].node],
        Step::MatMul(m) => matmuls[*m].operands.to_vec(),
        Step::Output(_) | Step::Direct | Step::Region(_) | Step::Fallback => {
            graph.nodes[i].inputs.clone()
        }
    };
    steps.iter().enumerate().map(step).collect()
}

/// Whether `group` may be part of a kernel with several outputs: an `f32x4`
/// kernel of more than one element without random members (they draw by
/// the output's offset, the same for every output, but are left alone).
fn eligible(graph: &Graph, group: &Group) -> bool {
    let Some(root) = group.root() else {
        return false;
    };
    let out = graph.ty(root).shape.dims();
    let mut shapes: Vec<&[usize]> = group
        .leaves
        .iter()
        .map(|&l| graph.ty(l).shape.dims())
        .collect();
    shapes.extend(group.stored().iter().map(|_| out));
    let random = group
        .members
        .iter()
        .any(|&m| crate::backend::jit::dropout::is_random(graph, m));
    !random
        && graph.ty(root).shape.numel() > 1
        && shapes.len() <= MAX_OPERANDS
        && Nest::new(out, &shapes).is_ok_and(|nest| vectorizes(graph, group, &nest))
}

/// `a` and `b` as one group: members and stored roots united, leaves that
/// are roots of the other dropped (read in registers). `None` when both
/// have the same root.
fn merge(a: &Group, b: &Group) -> Option<Group> {
    let (ra, rb) = (a.root()?, b.root()?);
    if ra == rb || a.members.contains(&rb) || b.members.contains(&ra) {
        return None;
    }
    let mut members: Vec<NodeId> = a.members.clone();
    members.extend(b.members.iter().filter(|m| !a.members.contains(m)));
    members.sort();
    let mut stored: Vec<NodeId> = a.stored();
    stored.extend(b.stored());
    stored.sort();
    let mut leaves: Vec<NodeId> = Vec::new();
    for &l in a.leaves.iter().chain(&b.leaves) {
        if !stored.contains(&l) && !members.contains(&l) && !leaves.contains(&l) {
            leaves.push(l);
        }
    }
    stored.pop();
    Some(Group {
        members,
        leaves,
        exact: a.exact,
        outputs: stored,
        views: Vec::new(),
    })
}

/// Whether a leaf of `merged` needs one of its stored roots first: then the
/// kernel could not run before itself. Follows what each step reads, a
/// formed cluster's root reading all of its cluster's leaves.
fn needs_own_root(
    merged: &Group,
    deps: &[Vec<NodeId>],
    cluster_of: &[Option<usize>],
    clusters: &[(Vec<usize>, Group)],
) -> bool {
    let roots: HashSet<NodeId> = merged.stored().into_iter().collect();
    let mut seen = vec![false; deps.len()];
    let mut stack: Vec<NodeId> = merged.leaves.clone();
    while let Some(id) = stack.pop() {
        if roots.contains(&id) {
            return true;
        }
        let Some(s) = seen.get_mut(id.index()) else {
            continue;
        };
        if std::mem::replace(s, true) {
            continue;
        }
        match cluster_of[id.index()] {
            Some(c) => stack.extend(&clusters[c].1.leaves),
            None => stack.extend(deps.get(id.index()).into_iter().flatten()),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(members: &[u32], leaves: &[u32]) -> Group {
        Group {
            members: members.iter().map(|&i| NodeId(i)).collect(),
            leaves: leaves.iter().map(|&i| NodeId(i)).collect(),
            exact: false,
            outputs: Vec::new(),
            views: Vec::new(),
        }
    }

    #[test]
    fn a_merged_group_reads_the_other_root_in_registers() {
        // m' = 3 (leaves 0, 1); w' = 5 reads m' and leaf 2.
        let merged = merge(&group(&[3], &[0, 1]), &group(&[4, 5], &[3, 2])).expect("merges");
        assert_eq!(merged.root(), Some(NodeId(5)));
        assert_eq!(merged.outputs, vec![NodeId(3)]);
        assert_eq!(merged.members, vec![NodeId(3), NodeId(4), NodeId(5)]);
        assert_eq!(merged.leaves, vec![NodeId(0), NodeId(1), NodeId(2)]);
    }

    #[test]
    fn a_leaf_that_reads_a_root_through_memory_refuses_the_merge() {
        // Root 3; node 4 (say a matmul) reads 3; group 5 reads 4.
        let mut deps = vec![Vec::new(); 6];
        deps[4] = vec![NodeId(3)];
        let merged = merge(&group(&[3], &[0]), &group(&[5], &[4])).expect("merges");
        let cluster_of = vec![None; 6];
        assert!(needs_own_root(&merged, &deps, &cluster_of, &[]));
        deps[4] = vec![NodeId(1)];
        assert!(!needs_own_root(&merged, &deps, &cluster_of, &[]));
    }
}
