//! Sibling GEMMs: when the schedule's walk (`backend::schedule`) reaches a
//! ready matmul and another planned matmul is ready too (all its operands
//! computed, itself not), the two are one item of the schedule
//! (`Item::Pair`), computed at once on two threads, each GEMM on
//! one, when the thread count allows, else one after the other. On two
//! cores this beats splitting each GEMM over both threads in turn (the MLP's
//! `dW2 = h1ᵀ @ g2` and `dh1 = g2 @ W2ᵀ`: docs/jit.md, "Sibling GEMMs").
//!
//! Independence needs no graph search: the partner's operands are all
//! computed while the first matmul is not, so the partner cannot read it,
//! and the first's operands are computed while the partner is not.
//!
//! The pairing is made once, at build time, from the walk's state and the
//! shapes, never the thread count; the arena plans the pair at positions `p`
//! and `p + 1` (`arena/live.rs`: both outputs live from `p`, every input read
//! by either live to `p + 1`, so no slot is reused while either GEMM runs). Results are
//! bitwise those of the unpaired walk: gemm's threads split the output, never
//! a sum (`helpers.rs`, `transb.rs`; tested below).

use super::arena::Run;
use super::calls::{base, Base};
use super::exec::{at, check_type, Executable};
use super::gemm::Layout;
use super::kinds::MatMulId;
use super::memlog::Tracker;
use super::plan::Step;
use super::tensors::Val;
use crate::backend::threads::{threads, with_threads};
use crate::diag::Diag;
use crate::ir::NodeId;

/// Multiply-adds below which a GEMM is not paired (a rayon task costs a few
/// µs; 2^20 multiply-adds take ~20 µs on one core).
const MIN_WORK: usize = 1 << 20;

/// Whether two GEMMs of `a` and `b` multiply-adds are close enough that
/// neither thread waits long for the other (the larger at most 5/4 of the
/// smaller): one of 8 ms on one thread beside one of 1 ms is slower than
/// each on two threads in turn.
fn balanced(a: usize, b: usize) -> bool {
    let (lo, hi) = (a.min(b), a.max(b));
    lo >= MIN_WORK && hi <= lo + lo / 4
}

impl Executable {
    /// Multiply-adds of matmul kernel `m` (all batch matrices).
    fn matmul_work(&self, m: MatMulId) -> usize {
        let mm = &self.matmuls[m].plan;
        let dims = self.graph.ty(mm.typed[0]).shape.dims();
        let k = match (mm.layouts[0], dims) {
            (Layout::Rows | Layout::Band(_), [.., c]) => *c,
            (Layout::Trans, [.., r, _]) => *r,
            _ => 0,
        };
        self.graph.ty(mm.node).shape.numel().saturating_mul(k)
    }

    /// The matmul to compute together with matmul node `id` (ready), if any:
    /// the first planned matmul not `done`, whose operands all `have` a
    /// value, of balanced work. Top-level executables without regions only
    /// (their schedule is the arena plan's; a branch's nodes may not be
    /// needed).
    pub(super) fn partner(
        &self,
        id: NodeId,
        have: impl Fn(NodeId) -> bool,
        done: &[bool],
    ) -> Option<NodeId> {
        if self.in_region || !self.regions.is_empty() {
            return None;
        }
        let Some(Step::MatMul(a)) = self.steps.get(id.index()) else {
            return None;
        };
        let work = self.matmul_work(*a);
        let found = self.matmuls.iter_enumerated().find(|&(b, mm)| {
            let mm = &mm.plan;
            let i = mm.node.index();
            b != *a
                && matches!(self.steps.get(i), Some(Step::MatMul(s)) if *s == b)
                && !done.get(i).copied().unwrap_or(true)
                && !have(mm.node)
                && mm.operands.iter().all(|&o| have(o))
                && balanced(work, self.matmul_work(b))
        });
        found.map(|(_, mm)| mm.plan.node)
    }

    /// Computes matmul nodes `ids` (both ready, neither reading the other) as
    /// one item of the schedule: their arena positions in order, both values into
    /// the memo, then the inputs of both released.
    pub(super) fn pair<'s>(
        &self,
        ids: [NodeId; 2],
        memo: &mut [Option<Val<'s>>],
        remaining: &mut [u32],
        done: &mut [bool],
        mem: &mut Option<Tracker>,
        arena: &mut Option<Run>,
    ) -> Result<(), Diag> {
        let kernel = |id: NodeId| match self.steps[id.index()] {
            Step::MatMul(k) => Ok(k),
            _ => Err(at(self.graph.node(id), "paired but not a matmul")),
        };
        let ms = [kernel(ids[0])?, kernel(ids[1])?];
        let matched = [arena.is_some(); 2];
        let base = base(arena.as_mut().map(|r| &mut r.buf[..]));
        let values = self.both(ms, ids, memo, base, matched);
        for (id, value) in ids.into_iter().zip(values) {
            let value = value?;
            let node = self.graph.node(id);
            check_type(node, &value)?;
            let arena_value = matches!(value, Val::Arena { .. });
            if let Some(m) = mem.as_mut() {
                if arena_value {
                    // A matmul output never takes a leaf's slot.
                    m.aliased(None);
                }
                m.computed(self, id, &value);
            }
            memo[id.index()] = Some(value);
            done[id.index()] = true;
        }
        for m in ms {
            let operands = self.matmuls[m].plan.operands;
            self.release(&operands, memo, remaining, mem.as_mut());
        }
        Ok(())
    }

    /// Runs the two kernels: at once, half the threads each, when there are
    /// two or more; else in order.
    fn both<'s>(
        &self,
        ms: [MatMulId; 2],
        ids: [NodeId; 2],
        memo: &[Option<Val<'s>>],
        base: Base,
        matched: [bool; 2],
    ) -> [Result<Val<'s>, Diag>; 2] {
        let prepare = |i: usize| self.prepare_matmul(ms[i], ids[i], memo, base, matched[i]);
        let (a, b) = match (prepare(0), prepare(1)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return [Err(e.clone()), Err(e)],
        };
        let n = threads();
        if n < 2 {
            return [a.run(), b.run()];
        }
        let half = n / 2;
        let (x, y) = rayon::join(
            move || with_threads(half, || a.run()),
            move || with_threads(n - half, || b.run()),
        );
        [x, y]
    }
}

#[cfg(test)]
pub(crate) mod tests;
