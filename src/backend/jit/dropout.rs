//! `dropout` inside fused elementwise kernels: a member like any elementwise
//! op, whose keep mask is drawn a block at a time; and `random_normal` /
//! `random_uniform` likewise, their values drawn a block at a time by
//! [`draws::tdsl_random_draw`] into a scratch the elements load.
//!
//! At the start of each block of at most `blocks::LEN` innermost elements
//! (`blocks.rs`) the kernel calls [`mask::tdsl_dropout_mask`] once, which
//! fills a stack scratch with one `i32` mask per element (all bits: kept)
//! from Philox for the elements' global indices; each element then computes
//! `mask ? x · scale : 0` in registers. The global index of an element is its
//! output offset (a dropout member has its kernel's output shape and the
//! output is contiguous), plus `first_row` times the row length on a share of
//! a split batch; the step and the loop word are the kernel's scalar leaves.
//! So the values are the interpreter's bits (`kernels/eval/random.rs`) on any
//! thread count and split.
//!
//! Fused only when the rate (and `first_row`) are constants: the rate's range
//! check and the threshold then happen at compile time; another rate runs the
//! interpreter's kernel, which reports a bad rate at run time.

pub(crate) mod draws;
pub(crate) mod mask;

use super::codegen::{internal, Jit};
use super::fused::Fused;
use super::nest::Emitter;
use crate::diag::Diag;
use crate::ir::{DType, Graph, Node, NodeId, Op, RandomKind};
use crate::kernels::eval::random;
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    types, Endianness, FuncRef, InstBuilder, MemFlagsData, StackSlot, Value,
};
use cranelift_module::Module;

/// What a fused dropout member needs at compile time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    seed: u64,
    /// `ceil(rate · 2^24)`: kept when `word >> 8` reaches it.
    threshold: u32,
    /// `1 / (1 - rate)` in the node's dtype (exact as an `f64`).
    scale: f64,
    /// The stream index of output element 0 (`first_row` times a row).
    first: u64,
}

/// The scalar value of a constant node.
fn constant(graph: &Graph, id: NodeId) -> Option<f64> {
    match &graph.node(id).op {
        Op::Const(t) => match t.to_f64_vec()[..] {
            [v] => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// The parameters of dropout node `node`, when the JIT fuses it: a float
/// dropout of more than one element whose rate is a constant in [0, 1), whose
/// `first_row` (if any) is a constant, and whose step and loop word are not
/// themselves fused ops (they are read as the kernel's scalar leaves).
pub(crate) fn params(graph: &Graph, node: &Node) -> Option<Params> {
    let Op::Random {
        kind: RandomKind::Dropout,
        seed,
    } = node.op
    else {
        return None;
    };
    let float = matches!(node.ty.dtype, DType::F32 | DType::F64);
    if !float || !(3..=5).contains(&node.inputs.len()) || node.ty.shape.numel() <= 1 {
        return None;
    }
    let rate = constant(graph, node.inputs[1])?;
    if !(0.0..1.0).contains(&rate) {
        return None;
    }
    let leaf = |k: usize| {
        node.inputs.get(k).is_none_or(|&i| {
            graph.ty(i).shape.numel() == 1 && !super::plan::lowered(graph, graph.node(i))
        })
    };
    if !leaf(2) || !leaf(4) {
        return None;
    }
    let first = match node.inputs.get(3) {
        None => 0,
        Some(&row) => {
            let row = u64::try_from(constant(graph, row)? as i64).ok()?;
            random::share_start(node.ty.shape.dims(), row)
        }
    };
    // The interpreter's own scale and threshold.
    let scale = match node.ty.dtype {
        DType::F32 => f64::from(random::keep_scale(rate as f32)),
        _ => random::keep_scale(rate),
    };
    Some(Params {
        seed,
        threshold: random::keep_threshold(rate),
        scale,
        first,
    })
}

/// Whether the JIT fuses random node `node` (a dropout, normal or uniform).
pub(crate) fn lowered(graph: &Graph, node: &Node) -> bool {
    params(graph, node).is_some() || draw_code(graph, node).is_some()
}

/// For a fused `random_normal`/`random_uniform` (a float draw of more than
/// one element whose step and loop word are leaves): its seed and the `code`
/// of [`draws::tdsl_random_draw`].
pub(crate) fn draw_code(graph: &Graph, node: &Node) -> Option<(u64, u32)> {
    let Op::Random { kind, seed } = node.op else {
        return None;
    };
    let normal = match kind {
        RandomKind::Normal => draws::NORMAL,
        RandomKind::Uniform => 0,
        RandomKind::Dropout => return None,
    };
    let wide = match node.ty.dtype {
        DType::F32 => 0,
        DType::F64 => draws::F64,
        _ => return None,
    };
    let leaves = node
        .inputs
        .iter()
        .all(|&i| graph.ty(i).shape.numel() == 1 && !super::plan::lowered(graph, graph.node(i)));
    let fits = (1..=2).contains(&node.inputs.len()) && node.ty.shape.numel() > 1;
    (leaves && fits).then_some((seed, normal | wide))
}

/// Whether `id` is a fused random member of any kind.
pub(crate) fn is_random(graph: &Graph, id: NodeId) -> bool {
    matches!(graph.node(id).op, Op::Random { .. })
}

/// Whether `id` is a fused dropout.
pub(crate) fn is_dropout(graph: &Graph, id: NodeId) -> bool {
    matches!(
        graph.node(id).op,
        Op::Random {
            kind: RandomKind::Dropout,
            ..
        }
    )
}

/// The inputs of member `id` that are values computed per element: all but
/// a random op's parameters (a dropout's `x` only; none of a draw's).
pub(crate) fn values(graph: &Graph, id: NodeId) -> &[NodeId] {
    let inputs = &graph.node(id).inputs;
    if is_dropout(graph, id) {
        &inputs[..inputs.len().min(1)]
    } else if is_random(graph, id) {
        &[]
    } else {
        inputs
    }
}

/// Declares block kernel `name` ([`mask::tdsl_dropout_mask`] or
/// [`draws::tdsl_random_draw`], one signature) in the function being built.
pub(crate) fn import(jit: &mut Jit, name: &str) -> Result<FuncRef, Diag> {
    let (ptr, i32_, i64_) = (jit.ptr_type(), types::I32, types::I64);
    let params = [i64_, i32_, i32_, i32_, i64_, ptr, ptr];
    let id = jit.import(name, &params, &[])?;
    Ok(jit.module.declare_func_in_func(id, &mut jit.ctx.func))
}

/// Whether `leaf` of `body`'s group is read only as a random op's
/// parameter (a dropout's step, rate, first row or loop word, a draw's step
/// or loop word: a scalar of any dtype the kernel never loads per element).
pub(crate) fn parameter_only(graph: &Graph, members: &[NodeId], leaf: NodeId) -> bool {
    let mut uses = members.iter().flat_map(|&m| {
        let node = graph.node(m);
        let first = if is_dropout(graph, m) { 1 } else { 0 };
        let random = is_random(graph, m);
        node.inputs
            .iter()
            .enumerate()
            .filter(move |(_, &i)| i == leaf)
            .map(move |(k, _)| random && k >= first)
    });
    let mut any = false;
    let all = uses.all(|p| {
        any = true;
        p
    });
    any && all
}

/// Emits the mask of dropout member `id`, or the values of a draw, for the
/// block of `n` elements at `offsets` into `slot` (one call of
/// [`mask::tdsl_dropout_mask`] or [`draws::tdsl_random_draw`]).
pub(crate) fn prepare(
    body: &Fused,
    e: &mut Emitter,
    offsets: &[Value],
    n: Value,
    id: NodeId,
    slot: StackSlot,
) -> Result<(), Diag> {
    let node = body.graph.node(id);
    // (seed, step input, word input, the kernel's code argument, first, kernel)
    let (seed, at, code, first, kernel) = match params(body.graph, node) {
        Some(p) => (
            p.seed,
            (2, 4),
            p.threshold,
            p.first,
            body.helpers.dropout_mask,
        ),
        None => {
            let draw = draw_code(body.graph, node);
            let (seed, code) = draw.ok_or_else(|| internal("random op not fusable"))?;
            (seed, (0, 1), code, 0, body.helpers.random_draw)
        }
    };
    let scalar = |k: usize| -> Result<Option<Value>, Diag> {
        let Some(&input) = node.inputs.get(k) else {
            return Ok(None);
        };
        let leaf = body.group.leaf_of(input);
        let value = leaf.and_then(|l| body.scalars.get(l).copied().flatten());
        value
            .map(Some)
            .ok_or_else(|| internal("a random op's step or loop word is not a scalar leaf"))
    };
    let step = scalar(at.0)?.ok_or_else(|| internal("a random op without a step"))?;
    let word = match scalar(at.1)? {
        Some(w) => w,
        None => e.b.ins().iconst(types::I32, 0),
    };
    // The output's offset is the element's index in the member's shape.
    let out = body.group.leaves.len();
    let first = e.b.ins().iadd_imm_s(offsets[out], first as i64);
    let seed = e.b.ins().iconst(types::I64, seed as i64);
    let code = e.b.ins().iconst(types::I32, i64::from(code));
    let ptr = e.ptr();
    let dst = e.b.ins().stack_addr(ptr, slot, 0);
    let args = [seed, step, word, code, first, n, dst];
    e.b.ins().call(kernel, &args);
    Ok(())
}

/// Dropout member `id` of `x` at `offsets` on `lanes` lanes: `mask ? x ·
/// scale : +0.0` (the mask from the block's scratch, an `i32` or `i32x4` of
/// all bits or none), the interpreter's select.
pub(crate) fn apply(
    body: &Fused,
    e: &mut Emitter,
    id: NodeId,
    x: Value,
    offsets: &[Value],
    lanes: u32,
) -> Result<Value, Diag> {
    let mask = body.blocks.mask(e, id, offsets, lanes);
    let mask = mask.ok_or_else(|| internal("dropout outside a block"))?;
    let node = body.graph.node(id);
    let p = params(body.graph, node).ok_or_else(|| internal("dropout not fusable"))?;
    let b = &mut e.b;
    let (scale, zero) = match node.ty.dtype {
        DType::F32 => (
            b.ins()
                .f32const(Ieee32::with_bits((p.scale as f32).to_bits())),
            b.ins().f32const(Ieee32::with_bits(0)),
        ),
        _ => (
            b.ins().f64const(Ieee64::with_bits(p.scale.to_bits())),
            b.ins().f64const(Ieee64::with_bits(0)),
        ),
    };
    if lanes > 1 {
        let scale = b.ins().splat(types::F32X4, scale);
        let kept = b.ins().fmul(x, scale);
        let flags = MemFlagsData::new().with_endianness(Endianness::Little);
        let mask = b.ins().bitcast(types::F32X4, flags, mask);
        // All bits or none per lane: `and` is the select against +0.0.
        Ok(b.ins().band(kept, mask))
    } else {
        let kept = b.ins().fmul(x, scale);
        Ok(b.ins().select(mask, kept, zero))
    }
}
