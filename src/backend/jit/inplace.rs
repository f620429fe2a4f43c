//! In-place writes: a single-output elementwise kernel (`Step::Fused`) may
//! write its output into the buffer of one of its inputs when that input dies
//! there. Two kinds of input qualify:
//!
//! - a pooled intermediate (a kernel output) whose last use is this kernel;
//! - a variable that this step assigns exactly this kernel's output (`w = w -
//!   lr * g`): the step owns the variable's buffer ([`Executable::run_owning`]),
//!   and the new value replaces the old one in that buffer.
//!
//! The static part is decided here at build time (same type as the output, so
//! the kernel reads the input at the output's own index; not fetched; for a
//! variable: the only node reading it, assigned this node, and no op in the
//! executable that can fail at run time). The dynamic part is checked when the
//! kernel runs (`Executable::reusable`): the input's remaining-use count is 1
//! (this kernel is its last reader, so every other read of the start-of-step
//! value has already run) and nothing else shares the tensor.
//!
//! Aliasing in the kernel: the leaf is read at the output's index only (same
//! shape, identity strides; a buffer the kernel also reads as a strided view,
//! `views.rs`, is never a candidate), and each element's store uses the values loaded
//! for that element, so the store of element `i` follows its loads; other
//! elements are at other addresses. The loads keep `readonly` (`fused.rs`):
//! Cranelift places a pure load before its first use and never merges loads of
//! different addresses, so no load is moved after the store it feeds. A
//! kernel with several outputs follows the same rule per output
//! (`outputs.rs`).

use super::codegen::internal;
use super::exec::{Env, Executable, Scratch};
use super::kinds::{FusedId, Table};
use super::plan::Step;
use super::tensors::Val;
use crate::backend::{StepInputs, StepResult};
use crate::diag::Diag;
use crate::ir::{GradOp, NodeId, Op, Tensor};
use std::sync::Arc;

/// Variables handed to a step by name, with their buffers (few: a short list
/// searched linearly).
pub type Owned = Vec<(String, Tensor)>;

/// Per fused group: which leaf (position in `leaves`) its output may
/// overwrite, and the variables the step should own.
#[derive(Default)]
pub(crate) struct InPlace {
    pub(crate) leaf: Table<FusedId, Option<usize>>,
    /// Variables updated in place: name and the (only) node reading it.
    pub(crate) variables: Vec<(String, NodeId)>,
    /// Per group updating a variable in place: the variable's other readers
    /// that do not depend on the update. The schedule's walk may reach the
    /// update first (the last input of a `group` is computed first); it then
    /// schedules these first, so the update can be the last reader
    /// (`Deps::first`, `uses.rs`).
    pub(crate) defer: Table<FusedId, Vec<NodeId>>,
    /// Per kernel with several outputs (`leaf` is `None` for it): per
    /// stored value (`Group::stored`), the leaf it may overwrite
    /// (`outputs.rs`).
    pub(crate) outputs: Table<FusedId, Vec<Option<usize>>>,
}

impl Executable {
    /// The static in-place plan (called once at build time).
    pub(super) fn plan_in_place(&self) -> InPlace {
        let owners = self.owners();
        let mut plan = InPlace::default();
        for group in self.fused.iter().map(|f| &f.group) {
            if !group.outputs.is_empty() {
                let (picks, variables, defer) = self.plan_outputs(group, &owners);
                plan.leaf.push(None);
                plan.outputs.push(picks);
                plan.variables.extend(variables);
                plan.defer.push(defer);
                continue;
            }
            plan.outputs.push(Vec::new());
            let Some(root) = group.root() else {
                plan.leaf.push(None);
                plan.defer.push(Vec::new());
                continue;
            };
            let candidates = (0..group.leaves.len())
                .filter(|&k| self.overwritable(group, group.leaves[k], root, &owners));
            let pick = self.variable_first(group, candidates);
            let mut defer = Vec::new();
            if let Some(k) = pick {
                let leaf = group.leaves[k];
                if let Op::Variable { name } = &self.graph.node(leaf).op {
                    plan.variables.push((name.clone(), leaf));
                    defer = self.readers_before(leaf, root);
                }
            }
            plan.leaf.push(pick);
            plan.defer.push(defer);
        }
        plan
    }

    /// The computations other than `root` that read `var` and do not depend
    /// on `root` (passes in index order until nothing changes: a kernel's
    /// other outputs read the kernel's node, which comes after them).
    pub(super) fn readers_before(&self, var: NodeId, root: NodeId) -> Vec<NodeId> {
        let mut after = vec![false; self.graph.len()];
        let mut changed = true;
        while changed {
            changed = false;
            for id in self.graph.ids().take(self.steps.len()) {
                let (i, deps) = (id.index(), self.step_deps(id.index()));
                if !after[i] && (id == root || deps.iter().any(|d| after[d.index()])) {
                    after[i] = true;
                    changed = true;
                }
            }
        }
        let ids = self.graph.ids().take(self.steps.len());
        ids.filter(|id| !after[id.index()] && self.step_deps(id.index()).contains(&var))
            .collect()
    }

    /// Whether a step of this executable can fail at run time on valid input
    /// (then no variable is overwritten in place: a failed step must leave
    /// every variable unchanged): an `index` or a `take` or their gradients
    /// (out of range),
    /// or a `cond`/`fold` (their regions run arbitrary ops).
    pub(super) fn may_fail(&self) -> bool {
        self.steps.iter().enumerate().any(|(i, step)| match step {
            Step::Region(_) => true,
            Step::Direct => super::direct::may_fail(&self.graph.nodes[i]),
            Step::Fallback => matches!(
                self.graph.nodes[i].op,
                Op::Index
                    | Op::Take { .. }
                    | Op::Grad(GradOp::ScatterIndex | GradOp::TakeGrad { .. })
            ),
            _ => false,
        })
    }

    /// The variables a step should hand over with [`Executable::run_owning`].
    pub fn owned_variables(&self) -> impl Iterator<Item = &str> {
        self.in_place
            .variables
            .iter()
            .map(|(name, _)| name.as_str())
    }

    /// Before running fused group `g`: the buffers of the leaves its outputs
    /// may overwrite (position and tensor), taken out of the memo, for each
    /// output without an arena slot (`matched`: the step follows the arena
    /// plan) whose leaf dies here.
    pub(super) fn reusable(
        &self,
        g: FusedId,
        memo: &mut [Option<Val>],
        remaining: &[u32],
        matched: bool,
    ) -> Vec<(usize, Tensor)> {
        let group = &self.fused[g].group;
        let single = [self.in_place.leaf.get(g).copied().flatten()];
        let picks = match group.outputs.is_empty() {
            true => &single[..],
            false => self.in_place.outputs.get(g).map_or(&[][..], Vec::as_slice),
        };
        let stored = group.each_stored();
        let mut taken = Vec::new();
        for (o, &k) in stored.zip(picks) {
            let slot = matched && self.arena_slot(o).is_some();
            if let Some(t) = k
                .filter(|_| !slot)
                .and_then(|k| self.take_leaf(g, k, memo, remaining))
            {
                taken.push(t);
            }
        }
        taken
    }

    /// The buffer of leaf `k` of group `g`, taken out of the memo, if that
    /// leaf dies here (remaining uses 1: this kernel) and nothing else
    /// shares it.
    fn take_leaf(
        &self,
        g: FusedId,
        k: usize,
        memo: &mut [Option<Val>],
        remaining: &[u32],
    ) -> Option<(usize, Tensor)> {
        let leaf = *self.fused[g].group.leaves.get(k)?;
        let i = leaf.index();
        if remaining.get(i) != Some(&1) {
            return None;
        }
        match memo[i].take() {
            Some(Val::Shared(arc)) => match Arc::try_unwrap(arc) {
                Ok(t) if super::tensors::is_standard(&t) => Some((k, t)),
                Ok(t) => {
                    memo[i] = Some(Val::Shared(Arc::new(t)));
                    None
                }
                Err(arc) => {
                    memo[i] = Some(Val::Shared(arc));
                    None
                }
            },
            other => {
                memo[i] = other;
                None
            }
        }
    }

    /// [`Executable::run`] with the buffers of `owned` variables (those named
    /// by [`Executable::owned_variables`]; `inputs.variables` holds the rest)
    /// handed to the step, which may write their new value into them. Gives
    /// back every owned variable the step did not overwrite, also when it
    /// fails (a step that can fail at run time never overwrites one).
    pub fn run_owning(
        &self,
        inputs: &StepInputs,
        mut owned: Owned,
    ) -> (Result<StepResult, Diag>, Owned) {
        for (_, t) in owned.iter_mut() {
            if !super::tensors::is_standard(t) {
                let v = std::mem::replace(t, Tensor::scalar(crate::ir::DType::F32, 0.0));
                *t = v.into_standard_layout();
            }
        }
        self.run_with(inputs, owned)
    }

    /// [`Executable::run`] owning the buffers of `owned` variables (standard
    /// layout); gives back those not overwritten in place.
    pub(super) fn run_with(
        &self,
        inputs: &StepInputs,
        owned: Owned,
    ) -> (Result<StepResult, Diag>, Owned) {
        self.with_own_threads(|| self.step_with(inputs, owned))
    }

    /// Runs `f` with [`crate::backend::threads::threads`] answering this
    /// executable's `Options::threads` on this thread (unchanged when 0).
    pub(crate) fn with_own_threads<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.options.threads {
            0 => f(),
            n => crate::backend::threads::with_threads(n, f),
        }
    }

    /// [`Executable::run_with`] on the thread count in effect.
    fn step_with(&self, inputs: &StepInputs, owned: Owned) -> (Result<StepResult, Diag>, Owned) {
        if self.in_region {
            let error = internal("a region runs inside its cond or fold");
            return (Err(error), owned);
        }
        let mut scratch = Scratch::new(self);
        scratch.owned = owned;
        scratch.mem = super::memlog::Tracker::start(self);
        scratch.arena = self.arena_start();
        if let (Some(m), Some(run)) = (scratch.mem.as_mut(), &scratch.arena) {
            m.arena = run.buf.len() * super::arena::ALIGN;
        }
        let mut updates: Vec<(NodeId, String, Val)> = Vec::new();
        let mut values = Vec::with_capacity(self.fetches.len());
        let env = Env {
            inputs,
            params: &[],
            word: 0,
        };
        let outcome = self
            .run_schedule(&mut scratch, &mut updates, env)
            .and_then(|()| {
                for &fetch in &self.fetches {
                    match scratch.memo[fetch.index()].as_ref() {
                        None => return Err(internal(format!("fetch {fetch} was not computed"))),
                        Some(Val::Arena { .. }) => {
                            return Err(internal(format!("fetch {fetch} is in the arena")))
                        }
                        Some(value) => values.push(value.clone()),
                    }
                }
                Ok(())
            });
        let back = self.give_back(&mut scratch.memo, &mut scratch.owned, outcome.is_err());
        // Fetched values are moved out, not copied, unless still shared (a
        // constant, a value fetched twice). Other kernel outputs go back to
        // the pool for the next step.
        if let Err(error) = outcome {
            drop((updates, values));
            self.release_memo(&mut scratch);
            self.arena_end(scratch.arena.take());
            return (Err(error), back);
        }
        self.release_memo(&mut scratch);
        self.arena_end(scratch.arena.take());
        if let Some(mem) = scratch.mem.take() {
            mem.report(self);
        }
        let fetched = values.into_iter().map(Val::into_owned).collect();
        updates.sort_by_key(|(id, _, _)| *id);
        let updates = updates
            .into_iter()
            .map(|(_, v, t)| (v, t.into_owned()))
            .collect();
        (Ok(StepResult { fetched, updates }), back)
    }

    /// The owned variables left after a run: unread ones, and read ones not
    /// overwritten (their memo slot). On failure, a variable overwritten in
    /// place (only after an internal error) gets the value in its buffer.
    pub(super) fn give_back(
        &self,
        memo: &mut [Option<Val>],
        owned: &mut Owned,
        failed: bool,
    ) -> Owned {
        let mut back = std::mem::take(owned);
        for (name, node) in &self.in_place.variables {
            if back.iter().any(|(n, _)| n == name) {
                continue;
            }
            let slot = match memo[node.index()].take() {
                Some(v) => Some(v),
                // Overwritten in place: on failure, its buffer is the root's.
                None if failed => self
                    .in_place_root(*node)
                    .and_then(|r| memo[r.index()].take()),
                None => None,
            };
            if let Some(v) = slot {
                back.push((name.clone(), v.into_owned()));
            }
        }
        back
    }

    /// The leaf at position `k` of the fused group computed at node `id`.
    pub(super) fn groups_leaf(&self, id: NodeId, k: usize) -> Option<NodeId> {
        match self.steps.get(id.index()) {
            Some(Step::Fused(g)) => self.fused[*g].group.leaves.get(k).copied(),
            _ => None,
        }
    }

    /// The root of the group that may overwrite variable node `node` (or
    /// the output of a kernel with several outputs).
    fn in_place_root(&self, node: NodeId) -> Option<NodeId> {
        if let Some(o) = self.in_place_output(node) {
            return Some(o);
        }
        self.fused
            .iter()
            .map(|f| &f.group)
            .zip(&self.in_place.leaf)
            .find(|(g, k)| k.and_then(|k| g.leaves.get(k)) == Some(&node))
            .and_then(|(g, _)| g.root())
    }
}
