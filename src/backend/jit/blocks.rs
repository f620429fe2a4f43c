//! Transcendental members of a vector kernel computed a block at a time by a
//! Rust kernel ([`super::vecmath`], 8 lanes on AVX2) instead of inline.
//!
//! Inline, an `f32x4` `sigmoid` is ~40 instructions per 4 elements on one long
//! dependency chain, and the whole fused body is bound by how many of those
//! chains the out-of-order window holds. Here, at the start of each block of
//! at most [`LEN`] innermost elements, the kernel fills one stack scratch per
//! such member (`exp`/`sigmoid` on `f32`) with the member's values for the
//! block: its argument is read in place when it is a contiguous leaf, else
//! computed into the scratch by a loop; then one call
//! `tdsl_block_f32(kind, src, scratch, n)` (~2 ns) computes the block. The
//! element loop then loads the member's value from the scratch.
//!
//! The Rust kernel computes the inline code's operations, so the bits are
//! unchanged; it is used only where [`super::vecmath::available`] says so.
//!
//! A fused `dropout` member ([`super::dropout`]) also has a scratch, of `i32`
//! keep masks filled per block by its own kernel, in scalar kernels too; the
//! member itself is still computed per element (`x · scale` where kept). A
//! fused `random_normal`/`random_uniform` has a scratch of its values.

use super::codegen::internal;
use super::fused::Fused;
use super::nest::Emitter;
use super::vecmath;
use crate::diag::Diag;
use crate::ir::{DType, Graph, NodeId, Op, UnaryOp};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Value,
};
use std::cell::Cell;

/// Elements per block (a multiple of 8): 1 KiB of scratch per member.
pub(crate) const LEN: usize = 256;

/// The kind of a dropout member's scratch (its keep masks), beside the
/// [`vecmath`] kinds.
const MASK: i32 = -1;
/// The kinds of a `random_normal`/`random_uniform` member's scratch (its
/// values), by dtype.
const DRAW_F32: i32 = -2;
const DRAW_F64: i32 = -3;

/// The blocked members of a kernel and where the current block starts.
#[derive(Default)]
pub(crate) struct Blocks {
    /// Per member: its node, its [`vecmath`] kind (or [`MASK`]) and its
    /// scratch.
    members: Vec<(NodeId, i32, StackSlot)>,
    /// The operand whose offset indexes the scratch (innermost stride 1).
    reference: usize,
    /// That operand's offset at the current block's start, once a block has
    /// been prepared: before, members are computed inline.
    base: Cell<Option<Value>>,
}

/// The [`vecmath`] kind of `op` on `dtype`, when it is computed by blocks.
fn kind(graph: &Graph, id: NodeId) -> Option<i32> {
    let node = graph.node(id);
    let f32_input = node
        .inputs
        .first()
        .is_some_and(|&i| graph.ty(i).dtype == DType::F32);
    match &node.op {
        Op::Unary(UnaryOp::Exp) if f32_input => Some(vecmath::EXP),
        Op::Unary(UnaryOp::Sigmoid) if f32_input => Some(vecmath::SIGMOID),
        _ => None,
    }
}

impl Blocks {
    /// The blocked members of `body` (`vector` must be
    /// [`super::fused::vectorizes`]'s answer), with their scratch slots:
    /// its dropouts, and in a vector kernel its `exp`/`sigmoid` unless the
    /// group is `exact` or the CPU lacks the kernels; none when no operand is
    /// contiguous on the innermost axis.
    pub(crate) fn new(e: &mut Emitter, graph: &Graph, body: &Fused, vector: bool) -> Blocks {
        let reference = body.inner.iter().position(|&s| s == 1);
        let Some(reference) = reference else {
            return Blocks::default();
        };
        // The block kernels use FMA: only a JIT whose ISA has it gets the same
        // bits from them as from its inline code.
        let math = vector
            && !body.group.exact
            && body.helpers.fma
            && vecmath::available()
            && !inline_only();
        let members = body
            .group
            .members
            .iter()
            .filter_map(|&id| {
                let draw = super::dropout::draw_code(graph, graph.node(id));
                let kind = if super::dropout::is_dropout(graph, id) {
                    MASK
                } else if let Some((_, code)) = draw {
                    let wide = code & super::dropout::draws::F64 != 0;
                    if wide {
                        DRAW_F64
                    } else {
                        DRAW_F32
                    }
                } else {
                    kind(graph, id).filter(|_| math)?
                };
                let bytes = if kind == DRAW_F64 { 8 } else { 4 };
                let data = StackSlotData::new(StackSlotKind::ExplicitSlot, (LEN * bytes) as u32, 5);
                Some((id, kind, e.b.create_sized_stack_slot(data)))
            })
            .collect();
        Blocks {
            members,
            reference,
            base: Cell::new(None),
        }
    }

    /// Whether the kernel has blocked members (its loops must then call
    /// [`Fused::prepare`] at every block's start).
    pub(crate) fn on(&self) -> bool {
        !self.members.is_empty()
    }

    /// Whether `id` is computed by blocks (so it costs the body one load).
    pub(crate) fn has(&self, id: NodeId) -> bool {
        self.members.iter().any(|m| m.0 == id && m.1 != MASK)
    }

    /// Whether `id`'s value is in a scratch (a block is prepared).
    pub(crate) fn ready(&self, id: NodeId) -> bool {
        self.base.get().is_some() && self.has(id)
    }

    /// The value of member `id` at `offsets` from its scratch, if it is
    /// blocked and a block is prepared.
    pub(crate) fn load(
        &self,
        e: &mut Emitter,
        id: NodeId,
        offsets: &[Value],
        lanes: u32,
    ) -> Option<Value> {
        let base = self.base.get()?;
        let &(_, kind, slot) = self.members.iter().find(|m| m.0 == id && m.1 != MASK)?;
        let j = e.b.ins().isub(offsets[self.reference], base);
        let (ty, shift) = match (kind, lanes > 1) {
            (DRAW_F64, _) => (types::F64, 3),
            (_, true) => (types::F32X4, 2),
            _ => (types::F32, 2),
        };
        let addr = scratch(e, slot, j, shift);
        Some(e.b.ins().load(ty, MemFlagsData::trusted(), addr, 0))
    }

    /// The keep mask of dropout member `id` at `offsets` (an `i32`, or an
    /// `i32x4` on vectors), once a block is prepared.
    pub(crate) fn mask(
        &self,
        e: &mut Emitter,
        id: NodeId,
        offsets: &[Value],
        lanes: u32,
    ) -> Option<Value> {
        let base = self.base.get()?;
        let &(_, _, slot) = self.members.iter().find(|m| m.0 == id && m.1 == MASK)?;
        let j = e.b.ins().isub(offsets[self.reference], base);
        let ty = if lanes > 1 { types::I32X4 } else { types::I32 };
        let addr = scratch(e, slot, j, 2);
        Some(e.b.ins().load(ty, MemFlagsData::trusted(), addr, 0))
    }

    /// Fills every member's scratch for the `n` (≤ [`LEN`]) innermost
    /// elements from `offsets`, in member order (a member's argument may
    /// read an earlier member's scratch).
    pub(crate) fn prepare(
        &self,
        body: &Fused,
        e: &mut Emitter,
        offsets: &[Value],
        n: Value,
    ) -> Result<(), Diag> {
        // The scratch holds LEN elements (a constant per kernel; callers
        // pass blocks of at most LEN, checked here all the same).
        let long =
            e.b.ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThan, n, LEN as i64);
        e.fail_if(long);
        let base = offsets[self.reference];
        self.base.set(Some(base));
        for &(id, kind, slot) in &self.members {
            if matches!(kind, MASK | DRAW_F32 | DRAW_F64) {
                super::dropout::prepare(body, e, offsets, n, id, slot)?;
                continue;
            }
            let arg = *body
                .graph
                .node(id)
                .inputs
                .first()
                .ok_or_else(|| internal("a unary op without input"))?;
            let ptr = e.ptr();
            let dst = e.b.ins().stack_addr(ptr, slot, 0);
            let leaf = body.group.leaf_of(arg);
            let src = match leaf {
                Some(k) if body.inner[k] == 1 && body.scalars[k].is_none() => {
                    e.address_n(k, offsets[k], n, 4)
                }
                _ => {
                    fill(body, e, offsets, n, arg, slot)?;
                    dst
                }
            };
            let kind = e.b.ins().iconst(types::I32, kind as i64);
            e.b.ins().call(body.helpers.block_f32, &[kind, src, dst, n]);
        }
        Ok(())
    }
}

/// The address of element `j` of a scratch slot (`j` an `i64` index) of
/// elements of `1 << shift` bytes.
fn scratch(e: &mut Emitter, slot: StackSlot, j: Value, shift: i64) -> Value {
    let ptr = e.ptr();
    let start = e.b.ins().stack_addr(ptr, slot, 0);
    let bytes = e.b.ins().ishl_imm_u(j, shift);
    e.b.ins().iadd(start, bytes)
}

/// Stores `arg`'s values for the block's `n` elements into `slot`: a
/// 4-lane loop, then a scalar one.
fn fill(
    body: &Fused,
    e: &mut Emitter,
    offsets: &[Value],
    n: Value,
    arg: NodeId,
    slot: StackSlot,
) -> Result<(), Diag> {
    let zero = e.b.ins().iconst(types::I64, 0);
    let one = |e: &mut Emitter, j: Value, lanes: u32| -> Result<(), Diag> {
        let offs: Vec<Value> = offsets
            .iter()
            .zip(&body.inner)
            .map(|(&o, &s)| if s == 1 { e.b.ins().iadd(o, j) } else { o })
            .collect();
        let v = body.compute_many(e, &offs, lanes, &[arg])?;
        let v = *v.first().ok_or_else(|| internal("no argument value"))?;
        let addr = scratch(e, slot, j, 2);
        e.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
        Ok(())
    };
    let j = e.counted(zero, n, 4, &mut |e, j| one(e, j, 4))?;
    e.counted(j, n, 1, &mut |e, j| one(e, j, 1))?;
    Ok(())
}

#[cfg(test)]
thread_local! {
    static INLINE: Cell<bool> = const { Cell::new(false) };
}

/// Whether kernels compiled on this thread inline every member (tests of
/// the inline code, see [`without_blocks`]).
fn inline_only() -> bool {
    #[cfg(test)]
    {
        INLINE.with(Cell::get)
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// Runs `f` with blocks off for the kernels it compiles on this thread.
#[cfg(test)]
pub(crate) fn without_blocks<T>(f: impl FnOnce() -> T) -> T {
    INLINE.with(|c| c.set(true));
    let out = f();
    INLINE.with(|c| c.set(false));
    out
}
