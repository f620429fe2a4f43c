//! One arena for a step's intermediates: a single 64-byte-aligned allocation
//! per top-level executable, in which every *arena value* has a slot at an
//! offset fixed by a static plan.
//!
//! An arena value is a native kernel's output (fused group, reduction or its
//! side output, matmul) that only native kernels read (fused or reduction
//! leaves, matmul operands), that is not fetched, not assigned and not empty.
//! Everything else (fetches, assigned values, what an interpreter kernel or a
//! region reads) stays an owned `Tensor` from the pool.
//!
//! The plan: without `cond`/`fold` at the top level, a step computes exactly
//! the executable's schedule (`backend::schedule`), in its order, so each
//! arena value gets an interval of positions in it (computed ..= last read,
//! [`Executable::live`]).
//! [`pack`] places the intervals in one buffer (greedy by size, best fit, as
//! TFLite's and XLA's heap simulators); a fused kernel that may write in place
//! (`inplace.rs`) into an arena leaf dying there gets that leaf's slot.
//!
//! A step that holds the buffer puts every arena value in its slot; a step
//! run while another holds it uses the pool instead.

use super::exec::{pooled, Executable};
use super::plan::Step;
use crate::ir::{NodeId, Op};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

mod live;
#[cfg(test)]
pub(crate) mod tests;

/// Slot alignment and granule (a cache line).
pub(crate) const ALIGN: usize = 64;

/// The arena's unit: its alignment makes every slot 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Block([u8; ALIGN]);

/// The static placement of a top-level executable's arena values.
#[derive(Clone)]
pub(crate) struct Plan {
    /// Per node: its slot's offset in bytes, when it is an arena value.
    pub(crate) slot: Vec<Option<usize>>,
    /// Per node: the dying leaf whose slot this fused output takes.
    pub(crate) alias: Vec<Option<NodeId>>,
    /// Per arena value: its slot and interval.
    pub(crate) intervals: Vec<Span>,
    /// Bytes of the arena.
    pub(crate) size: usize,
}

/// An arena value's slot and the schedule positions where it is live.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub(crate) node: NodeId,
    pub(crate) offset: usize,
    pub(crate) bytes: usize,
    pub(crate) first: usize,
    pub(crate) last: usize,
    /// The leaf whose slot this fused output takes (written in place).
    pub(crate) leaf: Option<NodeId>,
}

/// The plan (made once) and the buffer (allocated once, kept across steps).
#[derive(Default)]
pub(crate) struct Store {
    plan: OnceLock<Option<Plan>>,
    buf: Mutex<Option<Vec<Block>>>,
    made: AtomicBool,
}

/// A step's hold on the arena: the buffer (taken out of the store for the
/// step, so two concurrent steps never share it).
pub(crate) struct Run {
    pub(crate) buf: Vec<Block>,
}

/// An interval of schedule positions (inclusive) and a size, to be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) first: usize,
    pub(crate) last: usize,
    pub(crate) bytes: usize,
}

/// Offsets (multiples of [`ALIGN`]) for `items` such that two items whose
/// intervals overlap never overlap in memory, and the total size. Greedy by
/// size: largest first, each in the smallest gap between the items already
/// placed that live at the same time, else above them.
pub(crate) fn pack(items: &[Item]) -> (Vec<usize>, usize) {
    let round = |b: usize| b.div_ceil(ALIGN) * ALIGN;
    let mut by_size: Vec<usize> = (0..items.len()).collect();
    by_size.sort_by_key(|&i| (std::cmp::Reverse(items[i].bytes), items[i].first));
    let mut offset = vec![0usize; items.len()];
    let mut placed: Vec<usize> = Vec::new();
    let mut size = 0;
    for i in by_size {
        let it = items[i];
        let need = round(it.bytes);
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&j| items[j].first <= it.last && it.first <= items[j].last)
            .map(|&j| (offset[j], offset[j] + round(items[j].bytes)))
            .collect();
        busy.sort_unstable();
        let (mut at, mut best) = (0usize, None::<(usize, usize)>);
        for &(lo, hi) in &busy {
            if lo >= at + need && best.is_none_or(|(_, gap)| lo - at < gap) {
                best = Some((at, lo - at));
            }
            at = at.max(hi);
        }
        offset[i] = best.map_or(at, |(o, _)| o);
        size = size.max(offset[i] + need);
        placed.push(i);
    }
    (offset, size)
}

impl Executable {
    /// The arena plan, made on first use (`None`: this executable pools
    /// everything: a region, a top level with `cond`/`fold`, `Options::arena` off).
    pub(crate) fn arena_plan(&self) -> Option<&Plan> {
        if self.in_region || !self.options.arena {
            return None;
        }
        self.pool
            .arena
            .plan
            .get_or_init(|| self.plan_arena())
            .as_ref()
    }

    fn plan_arena(&self) -> Option<Plan> {
        if self.steps.iter().any(|s| matches!(s, Step::Region(_))) {
            return None;
        }
        let walk = self.live()?;
        let n = self.graph.len();
        let end = walk.len;
        let candidate = self.arena_candidates();
        // Per value: the representative whose slot it shares (an in-place
        // fused output takes its dying leaf's), and its items' extent.
        let mut owner: Vec<usize> = (0..n).collect();
        let mut alias = vec![None; n];
        for (g, fused) in self.fused.iter_enumerated() {
            let group = &fused.group;
            let (Some(root), Some(Some(k))) = (group.root(), self.in_place.leaf.get(g)) else {
                continue;
            };
            let Some(&leaf) = group.leaves.get(*k) else {
                continue;
            };
            let (r, l) = (root.index(), leaf.index());
            if candidate[r] && candidate[l] && walk.last[l] == walk.first[r] {
                owner[r] = owner[l];
                alias[r] = Some(leaf);
            }
        }
        let mut items: Vec<Item> = Vec::new();
        let mut item_of = vec![usize::MAX; n];
        for i in (0..n).filter(|&i| candidate[i] && walk.first[i] != usize::MAX) {
            let last = walk.last[i].min(end);
            let o = owner[i];
            if item_of[o] == usize::MAX {
                item_of[o] = items.len();
                let bytes = self.bytes(i);
                items.push(Item {
                    first: walk.first[i],
                    last,
                    bytes,
                });
            } else {
                let it = &mut items[item_of[o]];
                it.first = it.first.min(walk.first[i]);
                it.last = it.last.max(last);
            }
        }
        let (offsets, size) = pack(&items);
        let mut slot = vec![None; n];
        let mut intervals = Vec::new();
        for i in (0..n).filter(|&i| item_of[owner[i]] != usize::MAX && candidate[i]) {
            let off = offsets[item_of[owner[i]]];
            slot[i] = Some(off);
            let last = walk.last[i].min(end);
            intervals.push(Span {
                node: NodeId(i as u32),
                offset: off,
                bytes: self.bytes(i),
                first: walk.first[i],
                last,
                leaf: alias[i],
            });
        }
        debug_assert!(disjoint(&intervals), "arena slots of live values overlap");
        Some(Plan {
            slot,
            alias,
            intervals,
            size,
        })
    }

    fn bytes(&self, i: usize) -> usize {
        let ty = &self.graph.nodes[i].ty;
        ty.shape.numel() * ty.dtype.size_bytes()
    }

    /// Per node: whether it may live in the arena (see the module comment).
    fn arena_candidates(&self) -> Vec<bool> {
        let n = self.graph.len();
        let mut ok: Vec<bool> = (0..n)
            .map(|i| pooled(self.steps.get(i)) && !self.fetched[i] && self.bytes(i) > 0)
            .collect();
        for (i, step) in self.steps.iter().enumerate() {
            let native = matches!(
                step,
                Step::Fused(_)
                    | Step::Reduce(_)
                    | Step::MatMul(_)
                    | Step::Side(_)
                    | Step::Output(_)
                    | Step::Direct
            );
            let assign = matches!(self.graph.nodes[i].op, Op::Assign { .. });
            if !native || assign {
                for d in self.step_deps(i) {
                    ok[d.index()] = false;
                }
            }
            if assign {
                for d in &self.graph.nodes[i].inputs {
                    ok[d.index()] = false;
                }
            }
        }
        ok
    }

    /// At the start of a top-level step: the arena, if this executable has a
    /// plan and no other step holds the buffer (that step then uses the pool).
    pub(crate) fn arena_start(&self) -> Option<Run> {
        let plan = self.arena_plan()?;
        let store = &self.pool.arena;
        let mut slot = store.buf.lock().ok()?;
        let buf = match slot.take() {
            Some(buf) => buf,
            None if store.made.swap(true, Relaxed) => return None,
            None => vec![Block([0; ALIGN]); plan.size.div_ceil(ALIGN)],
        };
        Some(Run { buf })
    }

    /// At the end of the step: the buffer back into the store.
    pub(crate) fn arena_end(&self, run: Option<Run>) {
        if let (Some(run), Ok(mut slot)) = (run, self.pool.arena.buf.lock()) {
            *slot = Some(run.buf);
        }
    }

    /// The slot of arena value `id` (used only by a step holding the arena).
    pub(crate) fn arena_slot(&self, id: NodeId) -> Option<usize> {
        self.arena_plan()?.slot.get(id.index()).copied().flatten()
    }

    /// Whether node `id` never takes a pooled buffer (the arena holds it).
    pub(crate) fn in_arena(&self, id: usize) -> bool {
        self.arena_plan()
            .is_some_and(|p| p.slot.get(id).is_some_and(Option::is_some))
    }
}

/// Writes `bytes` at byte `at` of the arena (`at` a multiple of the element
/// size, so an element never crosses a block). `None` out of range.
pub(crate) fn put(buf: &mut [Block], at: usize, bytes: &[u8]) -> Option<()> {
    let start = at % ALIGN;
    let dst = buf
        .get_mut(at / ALIGN)?
        .0
        .get_mut(start..start + bytes.len())?;
    dst.copy_from_slice(bytes);
    Some(())
}

/// Whether no two values that are live at the same position share a byte,
/// except a fused output in its dying leaf's slot (the leaf's last read is the
/// output's write, element by element: `inplace.rs`).
pub(crate) fn disjoint(spans: &[Span]) -> bool {
    spans.iter().enumerate().all(|(i, a)| {
        spans[i + 1..].iter().all(|b| {
            let live = a.first <= b.last && b.first <= a.last;
            let shared = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
            let in_place = |x: &Span, y: &Span| {
                y.leaf == Some(x.node)
                    && x.last == y.first
                    && (x.offset, x.bytes) == (y.offset, y.bytes)
            };
            !(live && shared) || in_place(a, b) || in_place(b, a)
        })
    })
}

#[cfg(test)]
impl Executable {
    /// The arena buffer's address, when allocated and not held by a step.
    pub(crate) fn arena_address(&self) -> Option<usize> {
        let slot = self.pool.arena.buf.lock().ok()?;
        slot.as_ref().map(|b| b.as_ptr() as usize)
    }
}
