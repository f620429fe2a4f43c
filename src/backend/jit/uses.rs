//! What each computation reads, as the shared schedule sees it ([`Deps`]);
//! which values a step still needs: per node, how many computations read
//! it, and the release of a dead kernel output to the pool.

use super::exec::{at, pooled, Executable};
use super::plan::Step;
use super::tensors::Val;
use crate::backend::schedule::{Deps, Need};
use crate::diag::Diag;
use crate::ir::{NodeId, Op};
use std::sync::Arc;

/// The JIT's unit of work is a step (`plan.rs`): a fused group's root reads
/// its leaves, a reduction also produces its side output, an in-place update
/// comes after the variable's other readers (`inplace.rs`), two ready
/// matmuls may run as one (`siblings.rs`).
impl Deps for Executable {
    fn len(&self) -> usize {
        self.graph.len()
    }

    fn need(&self, id: NodeId) -> Result<Need, Diag> {
        match self.steps.get(id.index()) {
            Some(Step::Region(r)) => self.region_need(*r, self.graph.node(id)),
            Some(Step::Unused | Step::Inlined) | None => {
                Err(at(self.graph.node(id), "is not computed on its own"))
            }
            Some(_) => Ok(Need::Inputs(self.step_deps(id.index()).to_vec())),
        }
    }

    fn first(&self, id: NodeId) -> &[NodeId] {
        match self.steps.get(id.index()) {
            Some(Step::Fused(g)) => self.in_place.defer.get(*g).map_or(&[], Vec::as_slice),
            _ => &[],
        }
    }

    fn partner(&self, id: NodeId, done: &[bool]) -> Option<NodeId> {
        Executable::partner(self, id, |d| done[d.index()], done)
    }

    fn also(&self, id: NodeId) -> &[NodeId] {
        match self.steps.get(id.index()) {
            Some(Step::Reduce(r)) => self.reductions[*r].reduction.side.as_slice(),
            Some(Step::Fused(g)) => &self.fused[*g].group.outputs,
            _ => &[],
        }
    }
}

impl Executable {
    /// Per node, how many computations list it among their dependencies: a
    /// node's `deps` in a step are these or (for `cond`/`fold`, which skip
    /// unused captures) a subset, so a count that reaches 0 during a step
    /// means no later computation of the step reads the value.
    pub(super) fn count_uses(&self) -> Vec<u32> {
        let mut uses = vec![0u32; self.graph.len()];
        // A kernel's other outputs never run on their own (`also`).
        let own = |i: &usize| !matches!(self.steps[*i], Step::Output(_));
        for i in (0..self.steps.len()).filter(own) {
            for d in self.step_deps(i) {
                if let Some(u) = uses.get_mut(d.index()) {
                    *u += 1;
                }
            }
        }
        uses
    }

    /// The inputs node `i`'s computation may read (all captures of a region).
    pub(super) fn step_deps(&self, i: usize) -> &[NodeId] {
        match &self.steps[i] {
            Step::Unused | Step::Inlined => &[],
            Step::Fused(g) => &self.fused[*g].group.leaves,
            Step::Reduce(r) => &self.reductions[*r].reduction.group.leaves,
            Step::Side(r) => std::slice::from_ref(&self.reductions[*r].reduction.node),
            Step::Output(g) => self.fused[*g]
                .group
                .members
                .last()
                .map_or(&[], std::slice::from_ref),
            Step::MatMul(m) => &self.matmuls[*m].plan.operands,
            Step::Region(_) | Step::Fallback | Step::Direct => &self.graph.nodes[i].inputs,
        }
    }

    /// After a computation that read `deps`: a kernel output no later
    /// computation of the step reads, and that is not fetched, goes back to
    /// the pool now (its buffer can serve a later node of the same type).
    pub(super) fn release(
        &self,
        deps: &[NodeId],
        memo: &mut [Option<Val>],
        remaining: &mut [u32],
        mut mem: Option<&mut super::memlog::Tracker>,
    ) {
        for &dep in deps {
            let i = dep.index();
            let Some(left) = remaining.get_mut(i) else {
                continue;
            };
            *left = left.saturating_sub(1);
            if let (0, Some(m)) = (*left, mem.as_deref_mut()) {
                m.died(self, dep, memo[i].as_ref());
            }
            if *left > 0 || self.fetched.get(i) != Some(&false) {
                continue;
            }
            if matches!(self.graph.nodes[i].op, Op::Allreduce { .. }) {
                self.release_reduced(&mut memo[i], mem.as_deref_mut());
                continue;
            }
            if !pooled(self.steps.get(i)) {
                // An interpreter kernel's output (allocated each step) is
                // dropped now rather than at the end of the step; a variable
                // stays (an owned one goes back to the session).
                let fallback = matches!(self.steps.get(i), Some(Step::Fallback));
                if fallback && !matches!(self.graph.nodes[i].op, Op::Variable { .. }) {
                    if let (Some(Val::Shared(arc)), Some(m)) = (memo[i].take(), mem.as_deref_mut())
                    {
                        if Arc::strong_count(&arc) == 1 {
                            m.freed(&arc);
                        }
                    }
                }
                continue;
            }
            match memo[i].take() {
                // Dead: its slot may be another value's from now on.
                Some(Val::Arena { .. }) => {}
                Some(Val::Shared(arc)) => match Arc::try_unwrap(arc) {
                    Ok(tensor) => {
                        if let Some(m) = mem.as_deref_mut() {
                            m.freed(&tensor);
                        }
                        self.pool.give(tensor)
                    }
                    // Still shared (a fetched copy): keep it.
                    Err(arc) => memo[i] = Some(Val::Shared(arc)),
                },
                other => memo[i] = other,
            }
        }
    }
}
