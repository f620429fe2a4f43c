//! One computation of a run, as the schedule lists it: a node (its kernel,
//! region or interpreter kernel), or two sibling matmuls (`siblings.rs`).

use super::{at, check_type, Env, Executable, Scratch};
use crate::backend::jit::calls::Place;
use crate::backend::jit::plan::Step;
use crate::backend::jit::tensors::Val;
use crate::backend::regions::predicate;
use crate::backend::schedule::Runner;
use crate::diag::Diag;
use crate::ir::{NodeId, Op};
use std::sync::Arc;

/// A run in progress: what [`crate::backend::schedule::Schedule::run`] drives.
struct Stepper<'a, 'r, 's> {
    exe: &'a Executable,
    scratch: &'a mut Scratch<'s>,
    updates: &'a mut Vec<(NodeId, String, Val<'s>)>,
    env: Env<'r, 's>,
}

impl Runner for Stepper<'_, '_, '_> {
    fn done(&self, id: NodeId) -> bool {
        self.scratch.done.get(id.index()).copied().unwrap_or(false)
    }

    fn node(&mut self, id: NodeId) -> Result<(), Diag> {
        if self.exe.bucketed(id) {
            return self.exe.reduce_bucketed(id, self.scratch);
        }
        self.exe.step(id, self.scratch, self.updates, self.env)?;
        self.exe.after_item(id, self.scratch)
    }

    fn pair(&mut self, ids: [NodeId; 2]) -> Result<(), Diag> {
        let s = &mut *self.scratch;
        let (memo, remaining, done) = (&mut s.memo, &mut s.remaining, &mut s.done);
        self.exe
            .pair(ids, memo, remaining, done, &mut s.mem, &mut s.arena)?;
        self.exe.after_item(ids[0], self.scratch)
    }

    fn branch(&self, id: NodeId) -> Result<usize, Diag> {
        let node = self.exe.graph.node(id);
        let pred = node
            .inputs
            .first()
            .and_then(|p| self.scratch.memo[p.index()].as_ref());
        let pred = pred.ok_or_else(|| at(node, "the predicate was not computed"))?;
        Ok(if predicate(node, pred)? { 0 } else { 1 })
    }
}

impl Executable {
    /// Runs the schedule: computes what the fetches need.
    pub(in crate::backend::jit) fn run_schedule<'s>(
        &self,
        scratch: &mut Scratch<'s>,
        updates: &mut Vec<(NodeId, String, Val<'s>)>,
        env: Env<'_, 's>,
    ) -> Result<(), Diag> {
        let outcome = self.schedule.run(&mut Stepper {
            exe: self,
            scratch,
            updates,
            env,
        });
        self.settle_buckets();
        outcome
    }

    /// Computes node `id`, whose inputs are computed: its value into the
    /// memo, then the inputs no later computation reads released.
    fn step<'s>(
        &self,
        id: NodeId,
        scratch: &mut Scratch<'s>,
        updates: &mut Vec<(NodeId, String, Val<'s>)>,
        env: Env<'_, 's>,
    ) -> Result<(), Diag> {
        let Scratch {
            memo,
            remaining,
            deps,
            done,
            owned,
            mem,
            arena,
        } = scratch;
        deps.clear();
        // A region's inputs depend on the run (its taken branch's captures);
        // every other step reads its planned list in place (no copy per node).
        let deps: &[NodeId] = match &self.steps[id.index()] {
            Step::Region(_) | Step::Unused | Step::Inlined => {
                self.deps(id, memo, deps)?;
                deps.as_slice()
            }
            _ => self.step_deps(id.index()),
        };
        if let Some(dep) = deps.iter().find(|d| memo[d.index()].is_none()) {
            return Err(internal_gone(self, id, *dep, done));
        }
        let mut side = Vec::new();
        let node = self.graph.node(id);
        // An owned variable moves into the memo (it may be overwritten in
        // place); a fused kernel may take a dying input's buffer.
        let var = match &node.op {
            Op::Variable { name } => owned
                .iter()
                .position(|(n, _)| same_name(n, name))
                .map(|k| owned.swap_remove(k).1),
            _ => None,
        };
        let step = &self.steps[id.index()];
        // Only kernels read arena slots (the plan's rule, checked).
        if matches!(step, Step::Fallback | Step::Region(_))
            && deps
                .iter()
                .any(|d| matches!(memo[d.index()], Some(Val::Arena { .. })))
        {
            return Err(at(node, "would read an arena slot"));
        }
        let matched = arena.is_some();
        let slot = matched.then(|| self.arena_slot(id)).flatten();
        let reuse = match step {
            Step::Fused(g) => self.reusable(*g, memo, remaining, matched),
            _ => Vec::new(),
        };
        if let Some(m) = mem.as_mut() {
            reuse
                .iter()
                .for_each(|(k, _)| m.reused(self, self.groups_leaf(id, *k)));
        }
        if let (Some(m), true) = (mem.as_mut(), slot.is_some()) {
            m.aliased(self.arena_plan().and_then(|p| p.alias[id.index()]));
        }
        let place = Place {
            buf: arena.as_mut().map(|r| &mut r.buf[..]),
            matched,
        };
        let value = match var {
            Some(t) => Val::Shared(Arc::new(t)),
            None => match self.allreduce_in_place(id, memo, remaining)? {
                Some(v) => v,
                None => self.compute(id, memo, updates, env, &mut side, reuse, place)?,
            },
        };
        for (side_id, side_value) in side {
            if let Some(m) = mem.as_mut() {
                m.computed(self, side_id, &side_value);
            }
            done[side_id.index()] = true;
            memo[side_id.index()] = Some(side_value);
        }
        check_type(node, &value)?;
        if let Some(m) = mem.as_mut() {
            m.computed(self, id, &value);
        }
        memo[id.index()] = Some(value);
        done[id.index()] = true;
        self.release(deps, memo, remaining, mem.as_mut());
        Ok(())
    }
}

/// `a == b` compared inline: a variable node looks for its owned buffer by
/// name every step, and a `memcmp` call costs more than a short name.
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The internal error for input `dep` of `id` missing from the memo.
fn internal_gone(exe: &Executable, id: NodeId, dep: NodeId, done: &[bool]) -> Diag {
    let what = if done[dep.index()] {
        "is gone"
    } else {
        "was not computed"
    };
    at(exe.graph.node(id), format!("input {dep} {what}"))
}
