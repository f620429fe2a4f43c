//! `TDSL_MEM_LOG=1`: per top-level step, on stderr, the memory the plan holds
//! against the live-tensor minimum (read once per process, like
//! `TDSL_GEMM_LOG`).
//!
//! - *live minimum*: the maximum, over the step's execution order, of the bytes
//!   of values alive at once: feeds and variables read, kernel and fallback
//!   outputs until their last use, fetched and assigned values to the end.
//!   Constants are not counted; a region's internals neither (only its result).
//!   The second figure lets a leaf that a kernel overwrites in place (a
//!   variable, a pooled buffer, an arena slot) stop counting before the
//!   kernel's output counts: the minimum for this plan's in-place writes.
//! - *plan peak*: the maximum of the bytes the step actually holds (inputs
//!   read, outputs not yet given back to the pool; a fallback output until
//!   its last use) plus the pool's spare buffers at that moment.
//! - the arena's bytes (`arena.rs`; counted whole in the plan peak) and how
//!   many values went to their slots.
//! - the pool's bytes: allocated this step, in total, spare at the step's end.

use super::exec::Executable;
use super::tensors::Val;
use crate::ir::{NodeId, Op, Tensor};

pub(crate) struct Tracker {
    /// Per node: its bytes while counted as live (0: not counted).
    counted: Vec<usize>,
    /// Per node: alive to the end of the step once computed.
    keep: Vec<bool>,
    live: usize,
    peak_live: usize,
    /// The same with the step's in-place writes: a leaf whose buffer or slot
    /// a kernel overwrites stops counting before the output counts.
    live_ip: usize,
    peak_ip: usize,
    early: Vec<bool>,
    held: usize,
    peak_plan: usize,
    allocated_before: usize,
    /// In-place writes this step: into variables, into intermediates.
    in_place: (usize, usize),
    /// Bytes of the arena the step holds (0: none); values in arena slots.
    pub(crate) arena: usize,
    in_arena: usize,
}

fn bytes_of(exe: &Executable, id: NodeId) -> usize {
    let ty = exe.graph.ty(id);
    ty.shape.numel() * ty.dtype.size_bytes()
}

impl Tracker {
    /// A tracker for a step of `exe`, if its options ask for the log.
    pub(crate) fn start(exe: &Executable) -> Option<Tracker> {
        if !exe.options.mem_log {
            return None;
        }
        let n = exe.graph.len();
        let mut assigned = std::collections::HashSet::new();
        let mut keep = exe.fetched.clone();
        for node in &exe.graph.nodes {
            if let (Op::Assign { var }, [value]) = (&node.op, node.inputs.as_slice()) {
                assigned.insert(var.clone());
                keep[value.index()] = true;
            }
        }
        for (i, node) in exe.graph.nodes.iter().enumerate() {
            keep[i] |= match &node.op {
                Op::Placeholder { .. } => true,
                Op::Variable { name } => !assigned.contains(name),
                _ => false,
            };
        }
        Some(Tracker {
            counted: vec![0; n],
            keep,
            live: 0,
            peak_live: 0,
            live_ip: 0,
            peak_ip: 0,
            early: vec![false; n],
            held: 0,
            peak_plan: 0,
            allocated_before: exe.pool.allocated(),
            in_place: (0, 0),
            arena: 0,
            in_arena: 0,
        })
    }

    fn peak(&mut self, exe: &Executable) {
        self.peak_live = self.peak_live.max(self.live);
        self.peak_ip = self.peak_ip.max(self.live_ip);
        self.peak_plan = self
            .peak_plan
            .max(self.held + exe.pool.spare() + self.arena);
    }

    /// Node `id` was computed (or read) as `value`.
    pub(crate) fn computed(&mut self, exe: &Executable, id: NodeId, value: &Val) {
        if matches!(exe.graph.node(id).op, Op::Const(_) | Op::Assign { .. }) {
            return;
        }
        let bytes = value.bytes();
        self.counted[id.index()] = bytes;
        self.live += bytes;
        self.live_ip += bytes;
        // An arena slot is part of the arena, counted as a whole.
        if !matches!(value, Val::Arena { .. }) {
            self.held += bytes;
        }
        self.peak(exe);
    }

    /// Node `id`'s last reader has run.
    pub(crate) fn died(&mut self, _exe: &Executable, id: NodeId, _value: Option<&Val>) {
        let i = id.index();
        if !self.keep[i] {
            let bytes = std::mem::take(&mut self.counted[i]);
            self.live -= bytes.min(self.live);
            if !self.early[i] {
                self.live_ip -= bytes.min(self.live_ip);
            }
        }
    }

    /// A buffer went back to the pool.
    pub(crate) fn freed(&mut self, t: &Tensor) {
        self.held -= (t.len() * t.dtype().size_bytes()).min(self.held);
    }

    /// Node `leaf`'s buffer becomes a kernel's output (counted again there).
    pub(crate) fn reused(&mut self, exe: &Executable, leaf: Option<NodeId>) {
        if let Some(leaf) = leaf {
            self.held -= bytes_of(exe, leaf).min(self.held);
            self.overwritten(leaf);
            match exe.graph.node(leaf).op {
                Op::Variable { .. } => self.in_place.0 += 1,
                _ => self.in_place.1 += 1,
            }
        }
    }

    /// Node `leaf` dies in the kernel that overwrites it (in place).
    fn overwritten(&mut self, leaf: NodeId) {
        let i = leaf.index();
        if !self.keep[i] && !self.early[i] {
            self.early[i] = true;
            self.live_ip -= self.counted[i].min(self.live_ip);
        }
    }

    /// A value went to its arena slot; `leaf`: the dying leaf's slot it took.
    pub(crate) fn aliased(&mut self, leaf: Option<NodeId>) {
        self.in_arena += 1;
        if let Some(leaf) = leaf {
            self.in_place.1 += 1;
            self.overwritten(leaf);
        }
    }

    pub(crate) fn report(&self, exe: &Executable) {
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        let total = exe.pool.allocated();
        eprintln!(
            "[mem] live minimum {:.2} MiB ({:.2} with in-place writes), plan peak {:.2} MiB; arena \
             {:.2} MiB ({} of {} planned values); \
             pool: {:.2} MiB allocated this step, {:.2} MiB in total, {:.2} MiB spare at the \
             step's end; in place: {} variables, {} intermediates",
            mib(self.peak_live),
            mib(self.peak_ip),
            mib(self.peak_plan),
            mib(self.arena),
            self.in_arena,
            exe.arena_plan().map_or(0, |p| p.intervals.len()),
            mib(total - self.allocated_before.min(total)),
            mib(total),
            mib(exe.pool.spare()),
            self.in_place.0,
            self.in_place.1
        );
    }
}
