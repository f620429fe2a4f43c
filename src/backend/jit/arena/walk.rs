//! The replay of `Executable::eval`'s demand-driven walk for the arena plan:
//! the same stack, memo (as flags), remaining-use counts, in-place deferrals
//! (`inplace.rs`) and side outputs, without running a kernel. Any difference
//! from the real walk is caught at run time (`Executable::arena_next`).

use crate::backend::jit::exec::{pooled, Executable};
use crate::backend::jit::plan::Step;
use crate::ir::{NodeId, Op};

/// The walk of one step: the order, and per node the position where it is
/// computed and where its last reader runs (`usize::MAX`: never).
pub(super) struct Walk {
    pub(super) order: Vec<NodeId>,
    pub(super) first: Vec<usize>,
    pub(super) last: Vec<usize>,
}

impl Executable {
    /// Replays `eval`'s walk over all fetches without running anything
    /// (`None` when it meets something it cannot replay).
    pub(super) fn walk(&self) -> Option<Walk> {
        let n = self.graph.len();
        let (mut memo, mut done) = (vec![false; n], vec![false; n]);
        let mut deferred = vec![false; self.fused.len()];
        let mut remaining = self.uses.clone();
        let mut w = Walk {
            order: Vec::new(),
            first: vec![usize::MAX; n],
            last: vec![usize::MAX; n],
        };
        let mut stack = Vec::new();
        for &fetch in &self.fetches {
            stack.clear();
            stack.push(fetch);
            while let Some(&id) = stack.last() {
                // As `eval`: computed once, a deferral's entry may be stale.
                if *memo.get(id.index())? || done[id.index()] {
                    stack.pop();
                    continue;
                }
                let step = self.steps.get(id.index())?;
                if matches!(step, Step::Unused | Step::Inlined | Step::Region(_)) {
                    return None;
                }
                let deps = self.step_deps(id.index());
                let mut ready = true;
                for &dep in deps {
                    if dep.index() >= n {
                        return None;
                    }
                    if !memo[dep.index()] {
                        if done[dep.index()] {
                            return None;
                        }
                        stack.push(dep);
                        ready = false;
                    }
                }
                if let (true, Step::Fused(g)) = (ready, step) {
                    ready = !self.defer(*g, &done, &mut deferred, &mut stack);
                }
                if !ready {
                    if w.order.len() + stack.len() > 4 * n + 16 {
                        return None;
                    }
                    continue;
                }
                // Two ready matmuls are one step (`siblings.rs`): both live
                // from `pos`, their inputs to `end`.
                let partner = self.partner(id, |d| memo[d.index()], &done);
                let pos = w.order.len();
                w.order.push(id);
                let mut end = pos;
                if let Some(b) = partner {
                    w.order.push(b);
                    (memo[b.index()], done[b.index()]) = (true, true);
                    w.first[b.index()] = pos;
                    end = pos + 1;
                }
                let more = partner.map_or(&[][..], |b| self.step_deps(b.index()));
                if let Step::Reduce(r) = step {
                    if let Some(side) = self.reductions[*r].reduction.side {
                        (memo[side.index()], done[side.index()]) = (true, true);
                        w.first[side.index()] = pos;
                    }
                }
                (memo[id.index()], done[id.index()]) = (true, true);
                w.first[id.index()] = pos;
                stack.pop();
                for &dep in deps.iter().chain(more) {
                    let i = dep.index();
                    remaining[i] = remaining[i].saturating_sub(1);
                    if remaining[i] == 0 {
                        w.last[i] = end;
                        // As `release`: a dead kernel or interpreter output leaves the memo.
                        let variable = matches!(self.graph.nodes[i].op, Op::Variable { .. });
                        let fallback = matches!(self.steps[i], Step::Fallback);
                        let steps = self.steps.get(i);
                        if !self.fetched[i] && (pooled(steps) || (fallback && !variable)) {
                            memo[i] = false;
                        }
                    }
                }
            }
        }
        Some(w)
    }
}
