//! The translator of a fused elementwise group into one Cranelift function.
//!
//! A group is a tree of elementwise nodes of one output shape whose intermediate
//! values are never written to memory: the kernel loads each leaf (an input
//! buffer) once per element, computes every member in registers and stores only
//! the root. Leaves broadcast NumPy-style through static strides (see
//! [`super::nest`], which also holds the bounds proof). The innermost loop runs
//! on `f32x4` vectors, with a scalar tail, when the whole group is `f32` and every
//! leaf has stride 0 (splat) or 1 there; otherwise it is a scalar loop.

use super::blocks::Blocks;
use super::codegen::{internal, Jit};
use super::helpers::declare;
use super::nest::Operand;
use super::nest::{Body, Emitter, Nest};
use super::ops::{self, clif_type, Helpers, Lower};
use super::views::View;
use crate::diag::Diag;
use crate::ir::{DType, Graph, NodeId, Op, Tensor};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId, Module};
use std::collections::HashMap;

/// One fused group: `members` in topological order, the last being the root
/// (the only value stored); `leaves` are the operands loaded from memory, in
/// the order of the kernel's arguments (the output comes after them).
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub(crate) members: Vec<NodeId>,
    pub(crate) leaves: Vec<NodeId>,
    /// Compute `exp`, `sigmoid`, `tanh` and `log` with the interpreter's
    /// functions (helper calls) rather than the inline polynomials: set in
    /// `cond`/`fold` regions, where a loop feeds results back and a last-bit
    /// difference would compound (see `plan::plan`).
    pub(crate) exact: bool,
    /// Members stored besides the root, in node order (a kernel with
    /// several outputs: `plan/multi.rs`, [`Group::stored`]).
    pub(crate) outputs: Vec<NodeId>,
    /// Leaves read as strided views of their source (`views.rs`): the leaf
    /// holds the source, the view the node the members read.
    pub(crate) views: Vec<View>,
}

impl Group {
    pub(crate) fn root(&self) -> Option<NodeId> {
        self.members.last().copied()
    }
}

/// Builds the kernel of `group` into `jit` and returns its id and the size of
/// its outermost loop with the elements per step of it (how threads split it);
/// `check` inserts run-time bound checks.
pub(crate) fn compile(
    jit: &mut Jit,
    graph: &Graph,
    group: &Group,
    check: bool,
) -> Result<(FuncId, (usize, usize)), Diag> {
    if let Some(update) = super::adam::recognise(graph, group).filter(|_| super::adam::wide()) {
        return super::adam::compile(jit, graph, group, &update, check);
    }
    let root = group.root().ok_or_else(|| internal("empty fused group"))?;
    let out_ty = graph.ty(root).clone();
    let mut operands = group.operands(graph);
    // One operand per output, all of the root's shape.
    operands.extend(
        group
            .stored()
            .iter()
            .map(|_| Operand::Dense(out_ty.shape.dims())),
    );
    // The nest and its bounds proof come first: no code for a group that fails it.
    let nest = Nest::of(out_ty.shape.dims(), &operands)?;
    let lens: Vec<i64> = operands.iter().map(|o| o.len() as i64).collect();
    let outer = nest.dims.first().copied().unwrap_or(0);
    let per = nest.dims.iter().skip(1).product();
    let id = compile_nest(jit, graph, group, &nest, lens, check)?;
    Ok((id, (outer, per)))
}

/// Builds the kernel of `group` over `nest` (whose bounds proof the caller has
/// done: tests pass a wrong nest here to see `check_bounds` catch it), for
/// operands of `lens` elements. The kernel's slots after the operands are the
/// range `[lo, hi)` of the outermost axis it runs.
pub(crate) fn compile_nest(
    jit: &mut Jit,
    graph: &Graph,
    group: &Group,
    nest: &Nest,
    lens: Vec<i64>,
    check: bool,
) -> Result<FuncId, Diag> {
    let vector = vectorizes(graph, group, nest);
    jit.begin();
    let config = jit.module.target_config();
    let helpers = declare(jit)?;
    let b = FunctionBuilder::new(&mut jit.ctx.func, &mut jit.builder_ctx);
    // Only 0 and 1 matter to the body (splat, vector load); a negative
    // stride becomes `usize::MAX`, which is neither.
    let inner = nest
        .strides
        .iter()
        .map(|row| usize::try_from(row.last().copied().unwrap_or(0)).unwrap_or(usize::MAX))
        .collect();
    let root = group.root().ok_or_else(|| internal("empty fused group"))?;
    let mut body = Fused {
        graph,
        group,
        helpers: &helpers,
        inner,
        result: root,
        scalars: Vec::new(),
        blocks: Blocks::default(),
    };
    let mut e = Emitter::new(b, config, lens, check);
    body.hoist(&mut e);
    body.blocks = Blocks::new(&mut e, graph, &body, vector);
    e.unroll = !body.heavy();
    e.run(nest, &mut body, vector, true)?;
    jit.define("fused")
}

/// Whether the group runs on `f32x4`: every leaf and member is `f32`, except
/// `f32` comparisons used only as the condition of a `where` in the group
/// (lane masks) and a dropout's scalar parameters; every op vectorizes; every
/// operand's innermost stride is 0 or 1.
pub(crate) fn vectorizes(graph: &Graph, group: &Group, nest: &Nest) -> bool {
    let f32_ = |id: NodeId| graph.ty(id).dtype == DType::F32;
    let mask = |id: NodeId| {
        let node = graph.node(id);
        let compare = matches!(&node.op, Op::Binary(op) if op.is_comparison())
            && node.inputs.iter().all(|&i| f32_(i));
        let mut uses = group
            .members
            .iter()
            .flat_map(|&m| {
                let user = graph.node(m);
                user.inputs
                    .iter()
                    .enumerate()
                    .filter(move |(_, &i)| i == id)
                    .map(move |(k, _)| (matches!(user.op, Op::Select), k))
            })
            .peekable();
        compare && uses.peek().is_some() && uses.all(|(select, k)| select && k == 0)
    };
    let parameter = |id: NodeId| super::dropout::parameter_only(graph, &group.members, id);
    let types_ok = group.leaves.iter().all(|&id| f32_(id) || parameter(id))
        && group.members.iter().all(|&id| f32_(id) || mask(id))
        && group.members.last().is_none_or(|&root| f32_(root));
    let ops_ok = group.members.iter().all(|&id| match &graph.node(id).op {
        Op::Binary(op) => ops::binary_vectorizes(*op) || op.is_comparison(),
        Op::Unary(_) | Op::StopGradient | Op::Broadcast | Op::Cast(DType::F32) | Op::Select => true,
        Op::Random { .. } => true, // `dropout` (see `plan::lowered`)
        _ => false,
    });
    let inner_ok = nest
        .strides
        .iter()
        .all(|row| matches!(row.last(), None | Some(0) | Some(1)));
    types_ok && ops_ok && inner_ok && !nest.dims.is_empty()
}

/// Whether the group's body is long enough that unrolling its vector loop ×2
/// costs more (register spills: Cranelift keeps both copies' loads and shared
/// constants live across the body) than it gains: it has an op lowered to an
/// inline polynomial or a helper call (members computed by `blocks`, one load
/// each, do not count).
fn heavy(graph: &Graph, group: &Group, blocks: &Blocks) -> bool {
    use crate::ir::UnaryOp::{Abs, Neg, Not, Relu, Sqrt};
    let mut members = group.members.iter().filter(|&&id| !blocks.has(id));
    members.any(|&id| match &graph.node(id).op {
        Op::Unary(op) => !matches!(op, Abs | Neg | Not | Relu | Sqrt),
        Op::Binary(op) => *op == crate::ir::BinaryOp::Pow,
        _ => false,
    })
}

/// The body of a fused kernel: load the leaves, compute the members, store the root.
pub(crate) struct Fused<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) group: &'a Group,
    pub(crate) helpers: &'a Helpers,
    /// Each operand's stride on the innermost axis.
    pub(crate) inner: Vec<usize>,
    /// The node whose value [`Fused::compute`] gives: the root, or for a
    /// reduction the reduced value (a member or a leaf).
    pub(crate) result: NodeId,
    /// Per leaf: its value when it is a single element, loaded once at the
    /// kernel's entry (see [`Fused::hoist`]) instead of in every iteration.
    pub(crate) scalars: Vec<Option<Value>>,
    /// Members computed a block at a time by a Rust kernel (see `blocks.rs`).
    pub(crate) blocks: Blocks,
}

impl Fused<'_> {
    /// Whether the body is long (see [`heavy`]) once blocked members are
    /// loads.
    pub(crate) fn heavy(&self) -> bool {
        heavy(self.graph, self.group, &self.blocks)
    }

    /// At a block's start (`offsets`, `n` innermost elements, `n` ≤
    /// `blocks::LEN`): fills the blocked members' scratch; nothing when
    /// there are none.
    pub(crate) fn prepare(&self, e: &mut Emitter, offsets: &[Value], n: Value) -> Result<(), Diag> {
        if self.blocks.on() {
            self.blocks.prepare(self, e, offsets, n)?;
        }
        Ok(())
    }

    /// Loads every single-element leaf (a scalar broadcast to the whole
    /// group, e.g. a gradient seed) in the kernel's entry block.
    pub(crate) fn hoist(&mut self, e: &mut Emitter) {
        let flags = MemFlagsData::new().with_notrap().with_readonly();
        self.scalars = (0..self.group.leaves.len())
            .map(|k| {
                let ty = self.graph.ty(self.group.leaves[k]);
                let view = self.group.view(k);
                let (numel, at) = match view {
                    Some(v) => (v.dims.iter().product(), v.base),
                    None => (ty.shape.numel(), 0),
                };
                (numel == 1).then(|| {
                    // A constant's value is known now: an immediate lets
                    // Cranelift fold it (e.g. a select against zero).
                    let node = &self.graph.node(self.group.leaves[k]).op;
                    if let (Op::Const(t), None) = (node, view) {
                        match &**t {
                            Tensor::F32(a) => {
                                if let Some(&v) = a.iter().next() {
                                    return e.b.ins().f32const(Ieee32::with_bits(v.to_bits()));
                                }
                            }
                            Tensor::F64(a) => {
                                if let Some(&v) = a.iter().next() {
                                    return e.b.ins().f64const(Ieee64::with_bits(v.to_bits()));
                                }
                            }
                            _ => {}
                        }
                    }
                    let at = e.b.ins().iconst(types::I64, at);
                    let addr = e.address(k, at, 1, ty.dtype.size_bytes() as i64);
                    e.b.ins().load(clif_type(ty.dtype), flags, addr, 0)
                })
            })
            .collect();
    }

    /// Loads the leaves at `offsets` and computes every member; returns the
    /// value of `self.result`.
    pub(crate) fn compute(
        &self,
        e: &mut Emitter,
        offsets: &[Value],
        lanes: u32,
    ) -> Result<Value, Diag> {
        let values = self.compute_many(e, offsets, lanes, &[self.result])?;
        values.first().copied().ok_or_else(|| internal("no result"))
    }

    /// As [`Fused::compute`], giving the values of `results` (members or leaves).
    pub(crate) fn compute_many(
        &self,
        e: &mut Emitter,
        offsets: &[Value],
        lanes: u32,
        results: &[NodeId],
    ) -> Result<Vec<Value>, Diag> {
        // Leaves are inputs; an output may overwrite one only element by element
        // (in place, see `inplace.rs`: each store follows its own element's
        // loads). `readonly` makes the loads pure to Cranelift, so they are
        // placed next to their first use (not all at the top of an unrolled
        // body, where they would be spilled) and hoisted when loop-invariant.
        let flags = MemFlagsData::new().with_notrap().with_readonly();
        let mut values: HashMap<NodeId, Value> = HashMap::new();
        // Only the leaves and members `results` depend on (a block's argument
        // loop needs a part of the group; a blocked member needs no inputs).
        let mut needed: std::collections::HashSet<NodeId> = results.iter().copied().collect();
        for &id in self.group.members.iter().rev() {
            if needed.contains(&id) && !self.blocks.ready(id) {
                needed.extend(super::dropout::values(self.graph, id).iter().copied());
            }
        }
        // Load each leaf: a vector when its stride is 1, a splat when it is 0.
        for (k, &leaf) in self.group.leaves.iter().enumerate() {
            // A view's value is the node its members read.
            let leaf = self.group.read_as(k).unwrap_or(leaf);
            if !needed.contains(&leaf) {
                continue;
            }
            let dtype = self.graph.ty(leaf).dtype;
            let size = dtype.size_bytes() as i64;
            let contiguous = self.inner.get(k) == Some(&1);
            let scalar = self.scalars.get(k).copied().flatten();
            let v = if let Some(v) = scalar {
                if lanes > 1 {
                    e.b.ins().splat(types::F32X4, v)
                } else {
                    v
                }
            } else if lanes > 1 && contiguous {
                let addr = e.address(k, offsets[k], lanes as i64, size);
                e.b.ins().load(types::F32X4, flags, addr, 0)
            } else {
                let addr = e.address(k, offsets[k], 1, size);
                let scalar = e.b.ins().load(clif_type(dtype), flags, addr, 0);
                if lanes > 1 {
                    e.b.ins().splat(types::F32X4, scalar)
                } else {
                    scalar
                }
            };
            values.insert(leaf, v);
        }
        // Compute every member in registers, in topological order.
        let lower = Lower {
            lanes,
            helpers: self.helpers,
            exact: self.group.exact,
        };
        for &id in &self.group.members {
            if !needed.contains(&id) {
                continue;
            }
            if let Some(v) = self.blocks.load(e, id, offsets, lanes) {
                values.insert(id, v);
                continue;
            }
            let node = self.graph.node(id);
            let input = |k: usize| -> Result<Value, Diag> {
                node.inputs
                    .get(k)
                    .and_then(|i| values.get(i))
                    .copied()
                    .ok_or_else(|| {
                        internal(format!("{}: input {k} is not in the group", node.op.name()))
                    })
            };
            let dtype = node
                .inputs
                .first()
                .map(|&i| self.graph.ty(i).dtype)
                .unwrap_or(node.ty.dtype);
            let b = &mut e.b;
            let v = match &node.op {
                Op::Unary(op) => lower.unary(b, *op, dtype, input(0)?)?,
                Op::Binary(op) => lower.binary(b, *op, dtype, input(0)?, input(1)?)?,
                Op::Select if lanes > 1 => lower.choose(b, input(0)?, input(1)?, input(2)?),
                Op::Select => lower.select(b, input(0)?, input(1)?, input(2)?),
                Op::Cast(to) => lower.cast(b, dtype, *to, input(0)?),
                Op::StopGradient | Op::Broadcast => input(0)?,
                Op::Random { .. } => super::dropout::apply(self, e, id, input(0)?, offsets, lanes)?,
                other => return Err(internal(format!("{} is not elementwise", other.name()))),
            };
            values.insert(id, v);
        }
        results
            .iter()
            .map(|r| {
                values
                    .get(r)
                    .copied()
                    .ok_or_else(|| internal("a result was not computed"))
            })
            .collect()
    }
}

impl Body for Fused<'_> {
    fn blocks(&self) -> bool {
        self.blocks.on()
    }

    fn prepare(&mut self, e: &mut Emitter, offsets: &[Value], n: Value) -> Result<(), Diag> {
        Fused::prepare(self, e, offsets, n)
    }

    fn element(&mut self, e: &mut Emitter, offsets: &[Value], lanes: u32) -> Result<(), Diag> {
        // Compute (each leaf loaded once, each member computed once), then
        // store the root, or each output of a kernel with several.
        let stored = self.group.stored();
        let values = self.compute_many(e, offsets, lanes, &stored)?;
        let flags = MemFlagsData::new().with_notrap();
        for (j, (&id, &v)) in stored.iter().zip(&values).enumerate() {
            let out = self.group.leaves.len() + j;
            let size = self.graph.ty(id).dtype.size_bytes() as i64;
            let addr = e.address(out, offsets[out], lanes as i64, size);
            e.b.ins().store(flags, v, addr, 0);
        }
        Ok(())
    }
}
