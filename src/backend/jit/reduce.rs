//! Reductions (`sum`, `mean`, `max`, `min` over any axes of an `f32`/`f64`
//! tensor) fused with their elementwise producer: the kernel computes the
//! producer's chain in registers and accumulates it, so the chain is never
//! stored.
//!
//! Layout: the input's axes are permuted so the kept axes come first and the
//! reduced ones last (as the interpreter does), and each part is collapsed.
//! The innermost reduced axis (length `inner`) is cut into blocks of [`BLOCK`]
//! elements; every other axis is a *row*. The kernel writes one `f64` partial
//! per (row, block) into a partials buffer (`rows × blocks`), and
//! [`super::combine::combine`] reduces each output's partials in a fixed order
//! (pairwise for sums). The partials do not depend on how rows and blocks are split among
//! threads, so the result is bitwise the same for every thread count.
//!
//! Column mode ([`super::columns`]): when the reduced axes collapse to one
//! axis outside the last kept axis (a bias gradient, `sum(x, axis=0)` of
//! `[N, M]`), the kernel walks rows of the kept axis on `f32x4` instead:
//! each *task* is a block of [`super::columns::ROWS`] reduced rows of one
//! outer kept index, writing one partial per (output, block).
//!
//! Accuracy: within a block, `f32` groups accumulate in two `f32x4` vectors
//! (32 terms per lane), flushed lane by lane into `f64`; other groups
//! accumulate in `f64` directly. A sum over 4M `f32` stays within 1e-6 of the
//! `f64` result (tested).

mod layout;

use super::codegen::{internal, Jit};
use super::fused::{vectorizes, Fused, Group};
use super::helpers::declare as declare_helpers;
use super::nest::{Emitter, Nest};
use super::ops::Lower;
use crate::diag::Diag;
use crate::ir::{BinaryOp, DType, Graph, NodeId, ReduceOp};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId, Module};

pub(crate) use layout::{layout, layout_of, reducible, Layout};

/// Elements of the innermost reduced axis per partial (a multiple of 8).
pub(crate) const BLOCK: usize = 256;

/// A fused reduction: `node` reduces the value of `group` (its members may be
/// empty: then the reduced value is the single leaf).
#[derive(Clone, Debug)]
pub(crate) struct Reduction {
    pub(crate) node: NodeId,
    pub(crate) op: ReduceOp,
    pub(crate) group: Group,
    pub(crate) layout: Layout,
    /// A second output: an elementwise member of the group (of the reduced
    /// input's shape) stored at every element the kernel visits.
    pub(crate) side: Option<NodeId>,
}

/// Builds the kernel of `r`. Operands: the leaves, then the `f64` partials
/// buffer, then the side output (if any); slots after them: `row_lo, row_hi,
/// block_lo, block_hi`.
pub(crate) fn compile(
    jit: &mut Jit,
    graph: &Graph,
    r: &Reduction,
    check: bool,
) -> Result<FuncId, Diag> {
    let node = graph.node(r.node);
    let value = *node.inputs.first().ok_or_else(|| internal("no input"))?;
    // A random op draws by its output offset, which this kernel does not
    // have (`plan::plan` keeps them out of reductions).
    if r.group
        .members
        .iter()
        .any(|&m| super::dropout::is_random(graph, m))
    {
        return Err(internal("a random op in a reduction's group"));
    }
    let l = &r.layout;
    let nest = l.nest();
    let vector = vectorizes(graph, &r.group, &nest);
    let dtype = node.ty.dtype;
    let mut lens: Vec<i64> = r
        .group
        .leaves
        .iter()
        .map(|&x| graph.ty(x).shape.numel() as i64)
        .collect();
    lens.push(l.partials as i64);
    if let Some(side) = r.side {
        lens.push(graph.ty(side).shape.numel() as i64);
    }
    let n_leaves = r.group.leaves.len();
    let slots = lens.len();
    jit.begin();
    let config = jit.module.target_config();
    let helpers = declare_helpers(jit)?;
    let b = FunctionBuilder::new(&mut jit.ctx.func, &mut jit.builder_ctx);
    let mut e = Emitter::new(b, config, lens, check);
    let inner = l
        .strides
        .iter()
        .map(|s| s.last().copied().unwrap_or(0))
        .collect();
    let mut body = Fused {
        graph,
        group: &r.group,
        helpers: &helpers,
        inner,
        result: value,
        scalars: Vec::new(),
        blocks: Default::default(),
    };
    body.hoist(&mut e);
    if l.columns.is_none() {
        body.blocks = super::blocks::Blocks::new(&mut e, graph, &body, vector);
    }
    let gen = Gen {
        body: &body,
        op: r.op,
        dtype,
        vector,
        heavy: body.heavy(),
        helpers: &helpers,
        side: r.side.map(|s| (s, n_leaves + 1, dtype.size_bytes() as i64)),
    };
    if let Some(row_blocks) = l.columns {
        super::columns::emit(&mut e, &gen, l, row_blocks, n_leaves, slots)?;
        e.finish();
        return jit.define("reduce");
    }
    let (row_lo, row_hi) = e.range(slots, l.rows as i64);
    let (blk_lo, blk_hi) = e.range(slots + 2, l.blocks as i64);
    let full = (l.inner / BLOCK) as i64;
    e.counted(row_lo, row_hi, 1, &mut |e, row| {
        // Leaf offsets of this row: its index digits times the strides.
        // (One offset per leaf, then the side output's.)
        let mut offsets: Vec<_> = (l.bases.iter())
            .map(|&b| e.b.ins().iconst(types::I64, b as i64))
            .collect();
        let mut below = 1usize;
        for axis in (0..l.row_dims.len()).rev() {
            let d = l.row_dims[axis] as i64;
            let q = e.b.ins().udiv_imm_u(row, below as i64);
            let digit = e.b.ins().urem_imm_u(q, d);
            for (k, off) in offsets.iter_mut().enumerate() {
                let s = l.strides[k][axis] as i64;
                if s != 0 {
                    let step = e.b.ins().imul_imm_s(digit, s);
                    *off = e.b.ins().iadd(*off, step);
                }
            }
            below *= l.row_dims[axis];
        }
        let base = e.b.ins().imul_imm_s(row, l.blocks as i64);
        // Full blocks in [blk_lo, min(blk_hi, full)).
        let full_v = e.b.ins().iconst(types::I64, full);
        let lt = e.b.ins().icmp(
            cranelift_codegen::ir::condcodes::IntCC::SignedLessThan,
            blk_hi,
            full_v,
        );
        let end = e.b.ins().select(lt, blk_hi, full_v);
        e.counted(blk_lo, end, 1, &mut |e, blk| {
            let start = e.b.ins().imul_imm_s(blk, BLOCK as i64);
            let partial = gen.block(e, &offsets, &l.strides, start, BLOCK as i64)?;
            let slot = e.b.ins().iadd(base, blk);
            gen.store(e, n_leaves, slot, partial);
            Ok(())
        })?;
        // The last, shorter block, when this call covers it.
        let rest = l.inner % BLOCK;
        if rest > 0 {
            let last = e.b.ins().icmp_imm_s(
                cranelift_codegen::ir::condcodes::IntCC::Equal,
                blk_hi,
                l.blocks as i64,
            );
            let tail = e.b.create_block();
            let after = e.b.create_block();
            e.b.ins().brif(last, tail, &[], after, &[]);
            e.b.switch_to_block(tail);
            e.b.seal_block(tail);
            let start = e.b.ins().iconst(types::I64, full * BLOCK as i64);
            let partial = gen.block(e, &offsets, &l.strides, start, rest as i64)?;
            let slot = e.b.ins().iadd_imm_s(base, full);
            gen.store(e, n_leaves, slot, partial);
            e.b.ins().jump(after, &[]);
            e.b.switch_to_block(after);
            e.b.seal_block(after);
        }
        Ok(())
    })?;
    e.finish();
    jit.define("reduce")
}

/// Code generation of one block's partial.
pub(super) struct Gen<'a> {
    body: &'a Fused<'a>,
    op: ReduceOp,
    pub(super) dtype: DType,
    /// Whether the group runs on `f32x4`.
    pub(super) vector: bool,
    /// Whether the group is long (see [`super::fused::heavy`]).
    pub(super) heavy: bool,
    helpers: &'a super::ops::Helpers,
    /// The side output: its node, operand index and element size.
    side: Option<(NodeId, usize, i64)>,
}

impl Gen<'_> {
    /// The reduced value at `offsets` (`lanes` lanes), after storing the side
    /// output there.
    pub(super) fn value(
        &self,
        e: &mut Emitter,
        offsets: &[Value],
        lanes: u32,
    ) -> Result<Value, Diag> {
        let Some((side, k, size)) = self.side else {
            return self.body.compute(e, offsets, lanes);
        };
        let values = self
            .body
            .compute_many(e, offsets, lanes, &[self.body.result, side])?;
        let off = *offsets.last().ok_or_else(|| internal("no side offset"))?;
        let addr = e.address(k, off, lanes as i64, size);
        e.b.ins()
            .store(MemFlagsData::new().with_notrap(), values[1], addr, 0);
        Ok(values[0])
    }

    /// The identity of the reduction, as an `f64`.
    pub(super) fn identity(&self) -> f64 {
        match self.op {
            ReduceOp::Sum | ReduceOp::Mean => 0.0,
            ReduceOp::Max => f64::NEG_INFINITY,
            ReduceOp::Min => f64::INFINITY,
        }
    }

    /// `acc ∘ v` for values of `lanes` lanes of `dtype`.
    pub(super) fn combine(
        &self,
        b: &mut FunctionBuilder,
        lanes: u32,
        dtype: DType,
        acc: Value,
        v: Value,
    ) -> Result<Value, Diag> {
        let lower = Lower {
            lanes,
            helpers: self.helpers,
            exact: false, // only combines partials: no transcendentals
        };
        let op = match self.op {
            ReduceOp::Sum | ReduceOp::Mean => BinaryOp::Add,
            ReduceOp::Max => BinaryOp::Maximum,
            ReduceOp::Min => BinaryOp::Minimum,
        };
        lower.binary(b, op, dtype, acc, v)
    }

    /// Emits the reduction of `len` (a constant) elements of the innermost axis
    /// from element `start`; returns the partial as an `f64`.
    fn block(
        &self,
        e: &mut Emitter,
        offsets: &[Value],
        strides: &[Vec<usize>],
        start: Value,
        len: i64,
    ) -> Result<Value, Diag> {
        let axis = strides.first().map_or(0, |s| s.len().saturating_sub(1));
        let nest = Nest {
            dims: vec![0; axis + 1],
            strides: strides
                .iter()
                .map(|row| row.iter().map(|&s| s as i64).collect())
                .collect(),
            bases: vec![0; strides.len()],
        };
        let at = |e: &mut Emitter, i: Value| e.advance(&nest, offsets, axis, i);
        let (first, n) = (at(e, start), e.b.ins().iconst(types::I64, len));
        self.body.prepare(e, &first, n)?;
        let end = e.b.ins().iadd_imm_s(start, len);
        let id = e.b.ins().f64const(self.identity());
        let acc = e.b.declare_var(types::F64);
        e.b.def_var(acc, id);
        let mut i = start;
        if self.vector && len >= 4 {
            let id32 = e.b.ins().f32const(self.identity() as f32);
            let splat = e.b.ins().splat(types::F32X4, id32);
            let v0 = e.b.declare_var(types::F32X4);
            let v1 = e.b.declare_var(types::F32X4);
            e.b.def_var(v0, splat);
            e.b.def_var(v1, splat);
            if self.heavy {
                // One vector per iteration (a second one in flight only adds
                // spills to a long body), the accumulators swapped each time:
                // vector j goes into accumulator j % 2, as in the loop below.
                i = e.counted(i, end, 4, &mut |e, i| {
                    let offs = at(e, i);
                    let x = self.value(e, &offs, 4)?;
                    let (a, other) = (e.b.use_var(v0), e.b.use_var(v1));
                    let a = self.combine(&mut e.b, 4, DType::F32, a, x)?;
                    e.b.def_var(v0, other);
                    e.b.def_var(v1, a);
                    Ok(())
                })?;
                if (len / 4) % 2 == 1 {
                    // An odd count leaves the even accumulator in `v1`.
                    let (a, other) = (e.b.use_var(v0), e.b.use_var(v1));
                    e.b.def_var(v0, other);
                    e.b.def_var(v1, a);
                }
            } else {
                i = e.counted(i, end, 8, &mut |e, i| {
                    for (k, var) in [(0, v0), (4, v1)] {
                        let j = e.b.ins().iadd_imm_s(i, k);
                        let offs = at(e, j);
                        let x = self.value(e, &offs, 4)?;
                        let a = e.b.use_var(var);
                        let a = self.combine(&mut e.b, 4, DType::F32, a, x)?;
                        e.b.def_var(var, a);
                    }
                    Ok(())
                })?;
                i = e.counted(i, end, 4, &mut |e, i| {
                    let offs = at(e, i);
                    let x = self.value(e, &offs, 4)?;
                    let a = e.b.use_var(v0);
                    let a = self.combine(&mut e.b, 4, DType::F32, a, x)?;
                    e.b.def_var(v0, a);
                    Ok(())
                })?;
            }
            // Flush lane by lane into f64, in a fixed order.
            let mut total = e.b.use_var(acc);
            for var in [v0, v1] {
                let v = e.b.use_var(var);
                for lane in 0..4 {
                    let x = e.b.ins().extractlane(v, lane);
                    let x = e.b.ins().fpromote(types::F64, x);
                    total = self.combine(&mut e.b, 1, DType::F64, total, x)?;
                }
            }
            e.b.def_var(acc, total);
        }
        e.counted(i, end, 1, &mut |e, i| {
            let offs = at(e, i);
            let mut x = self.value(e, &offs, 1)?;
            if self.dtype == DType::F32 {
                x = e.b.ins().fpromote(types::F64, x);
            }
            let a = e.b.use_var(acc);
            let a = self.combine(&mut e.b, 1, DType::F64, a, x)?;
            e.b.def_var(acc, a);
            Ok(())
        })?;
        Ok(e.b.use_var(acc))
    }

    /// Stores partial `v` at element `slot` of operand `k` (the partials).
    pub(super) fn store(&self, e: &mut Emitter, k: usize, slot: Value, v: Value) {
        let addr = e.address(k, slot, 1, 8);
        e.b.ins()
            .store(MemFlagsData::new().with_notrap(), v, addr, 0);
    }
}
