//! Gradient buckets: on more than one process, the step's float `allreduce`s
//! are grouped into buckets whose non-blocking reductions start as soon as
//! their last gradient is computed and are waited for only where the first
//! reduced value is read (`docs/distributed.md`, "Buckets and overlap").
//!
//! Built once per top-level executable: the schedule's main line is split
//! (stably) into the computations that need no bucketed `allreduce` (the
//! forward and backward passes) and those that do (the optimiser's
//! updates), so every bucket starts before the first wait; the gradients, in
//! the order they become final, fill the buckets. Running them is `run.rs`.

mod run;

use super::exec::Executable;
use crate::backend::schedule::{Deps, Item, Need};
use crate::ir::{AllreduceOp, DType, NodeId, Op};
use crate::kernels::collective;
use std::sync::Mutex;

/// The buckets of one executable (none in a region or on one process).
#[derive(Default)]
pub(crate) struct Buckets {
    plan: Vec<Bucket>,
    /// Per node: the bucket of a bucketed `allreduce`.
    of: Vec<Option<usize>>,
    /// Per node: the buckets to start once this item is computed.
    starts: Vec<Vec<usize>>,
    /// What each bucket holds while it runs (`run.rs`).
    state: Mutex<Vec<run::State>>,
}

/// A group of gradients reduced by one call.
struct Bucket {
    /// `(allreduce, gradient, elements)`, in the order the gradients become final.
    members: Vec<(NodeId, NodeId, usize)>,
    dtype: DType,
    op: AllreduceOp,
    /// Started before the step's last gradient is computed.
    early: bool,
}

impl Bucket {
    fn len(&self) -> usize {
        self.members.iter().map(|m| m.2).sum()
    }
}

impl Buckets {
    /// Whether there is anything to do.
    pub(crate) fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }
}

impl Executable {
    /// Plans the buckets of this executable, and reorders its main line so
    /// that every bucket starts before the first wait. Nothing changes on
    /// one process, in a region, or when the main line has a `cond`.
    pub(super) fn plan_buckets(&mut self) {
        if self.in_region || collective::current().size() < 2 {
            return;
        }
        let Some((items, early)) = self.overlap_order() else {
            return;
        };
        self.schedule.items = items;
        self.buckets = self.fill_buckets(early, collective::bucket_bytes());
    }

    /// The main line with the computations that need no bucketed
    /// `allreduce` first, each part in its own order, and the length of the
    /// first part; `None` when it has a `cond` (then nothing is bucketed).
    fn overlap_order(&self) -> Option<(Vec<Item>, usize)> {
        let n = self.graph.len();
        let mut late = vec![false; n];
        let (mut early_items, mut late_items) = (Vec::new(), Vec::new());
        for item in &self.schedule.items {
            let ids: Vec<NodeId> = match *item {
                Item::Node(id) => vec![id],
                Item::Pair([a, b]) => vec![a, b],
                Item::Cond { .. } => return None,
            };
            let mut is_late = false;
            for &id in &ids {
                is_late |= self.bucketable(id).is_some();
                let inputs = match self.need(id).ok()? {
                    Need::Inputs(inputs) => inputs,
                    Need::Cond { .. } => return None,
                };
                let before = self.first(id).iter();
                is_late |= inputs.iter().chain(before).any(|d| late[d.index()]);
            }
            if is_late {
                for &id in &ids {
                    late[id.index()] = true;
                    for side in self.also(id) {
                        late[side.index()] = true;
                    }
                }
                late_items.push(*item);
            } else {
                early_items.push(*item);
            }
        }
        let early = early_items.len();
        early_items.extend(late_items);
        Some((early_items, early))
    }

    /// `(gradient, elements)` when `id` is an `allreduce` a bucket can take:
    /// an interpreter step on a float value.
    fn bucketable(&self, id: NodeId) -> Option<(NodeId, usize)> {
        let node = self.graph.node(id);
        let (Op::Allreduce { .. }, Some(super::plan::Step::Fallback), [input]) =
            (&node.op, self.steps.get(id.index()), &node.inputs[..])
        else {
            return None;
        };
        matches!(node.ty.dtype, DType::F32 | DType::F64).then(|| (*input, node.ty.shape.numel()))
    }

    /// The buckets of the (reordered) main line: gradients of at least
    /// `cap` bytes alone, smaller ones packed up to `cap` bytes, in the
    /// order they become final. Only gradients of the first `early` items
    /// (computed before any wait) are bucketed.
    fn fill_buckets(&self, early: usize, cap: usize) -> Buckets {
        let n = self.graph.len();
        // Per node: the item that computes it, and that item's first node.
        let mut made_at = vec![None; n];
        for (k, item) in self.schedule.items.iter().enumerate() {
            let ids = match *item {
                Item::Node(id) => [Some(id), None],
                Item::Pair([a, b]) => [Some(a), Some(b)],
                Item::Cond { .. } => [None, None],
            };
            let first = ids[0];
            for id in ids.into_iter().flatten() {
                let side = self.also(id).iter().copied();
                for made in std::iter::once(id).chain(side) {
                    made_at[made.index()] = first.map(|f| (k, f));
                }
            }
        }
        let mut candidates: Vec<(usize, NodeId, NodeId, NodeId, usize)> = Vec::new();
        for item in &self.schedule.items {
            let Item::Node(id) = *item else { continue };
            let Some((grad, len)) = self.bucketable(id) else {
                continue;
            };
            if let Some((k, trigger)) = made_at[grad.index()].filter(|m| m.0 < early) {
                candidates.push((k, trigger, id, grad, len));
            }
        }
        candidates.sort_by_key(|c| (c.0, c.2));
        let mut plan: Vec<(Bucket, usize, NodeId)> = Vec::new();
        let mut open: Option<(Bucket, usize, NodeId)> = None;
        for (k, trigger, id, grad, len) in candidates {
            let node = self.graph.node(id);
            let Op::Allreduce { op } = node.op else {
                continue;
            };
            let bytes = len * node.ty.dtype.size_bytes();
            let fits = open.as_ref().is_some_and(|(b, _, _)| {
                b.dtype == node.ty.dtype
                    && b.op == op
                    && (b.len() + len) * b.dtype.size_bytes() <= cap
            });
            if bytes >= cap || !fits {
                plan.extend(open.take());
            }
            let bucket = open.get_or_insert_with(|| {
                let empty = Bucket {
                    members: Vec::new(),
                    dtype: node.ty.dtype,
                    op,
                    early: false,
                };
                (empty, k, trigger)
            });
            bucket.0.members.push((id, grad, len));
            (bucket.1, bucket.2) = (k, trigger);
            if bytes >= cap {
                plan.extend(open.take());
            }
        }
        plan.extend(open);
        let last = plan.iter().map(|b| b.1).max();
        let mut buckets = Buckets {
            of: vec![None; n],
            starts: vec![Vec::new(); n],
            ..Buckets::default()
        };
        for (index, (mut bucket, k, trigger)) in plan.into_iter().enumerate() {
            bucket.early = Some(k) < last;
            for &(id, _, _) in &bucket.members {
                buckets.of[id.index()] = Some(index);
            }
            buckets.starts[trigger.index()].push(index);
            buckets.plan.push(bucket);
        }
        buckets.state = Mutex::new(buckets.plan.iter().map(|_| run::State::default()).collect());
        buckets
    }
}
