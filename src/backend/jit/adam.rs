//! Adam's update as one call to the wide kernel (`kernels::adam`): a fused
//! group whose three outputs are exactly `m'`, `s'` and `w'` of
//! `minimize(.., adam(..))` gets a small Cranelift kernel that checks its
//! range like any fused kernel and calls `tdsl_adam_f32` on it. Cranelift
//! emits only 128-bit vectors, and this update is bound by the divide and the
//! square root, which 512-bit registers do four times as fast; the bits are
//! those of the `f32x4` kernel (the same IEEE operations).

use super::codegen::{internal, Jit};
use super::fused::Group;
use super::nest::{Emitter, Nest, Operand};
use super::switch::{self, Feature};
use crate::diag::Diag;
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, Tensor, UnaryOp};
use crate::kernels::adam::{self, Buffers, Params};
use crate::kernels::isa;
use cranelift_codegen::ir::immediates::Ieee32;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId, Module};

/// Where a recognised update finds its operands: leaf indices of `g`, `m`,
/// `s`, `w`, of the scalars `b1, c1, b2, c2, lr, eps`, and the positions of
/// `m'`, `s'`, `w'` in [`Group::stored`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Update {
    dense: [usize; 4],
    scalars: [usize; 6],
    outputs: [usize; 3],
}

/// The update `group` computes, if it is exactly Adam's (any order of the
/// operands of `+` and `·`), on `f32` buffers of one shape, each read whole
/// (a view only when it drops or inserts size-1 axes of all of its source).
pub(crate) fn recognise(graph: &Graph, group: &Group) -> Option<Update> {
    let root = group.root()?;
    let ty = graph.ty(root);
    let whole = (0..group.leaves.len()).all(|k| group.reads_whole(k, graph));
    if ty.dtype != DType::F32 || !whole || group.members.len() != 12 {
        return None;
    }
    let member = |id: NodeId| group.members.contains(&id);
    let leaf = |id: NodeId| group.leaf_of(id);
    let dense = |id: NodeId| leaf(id).filter(|_| graph.ty(id) == ty);
    let scalar = |id: NodeId| {
        let t = graph.ty(id);
        leaf(id).filter(|_| t.dtype == DType::F32 && t.shape.numel() == 1)
    };
    let binary = |id: NodeId, op: BinaryOp| match (&graph.node(id).op, &graph.node(id).inputs[..]) {
        (Op::Binary(o), &[a, b]) if *o == op && member(id) => Some((a, b)),
        _ => None,
    };
    // `k · x` or `x · k`, `k` a scalar leaf.
    let scaled = |id: NodeId| {
        let (a, b) = binary(id, BinaryOp::Mul)?;
        scalar(a)
            .map(|k| (k, b))
            .or_else(|| scalar(b).map(|k| (k, a)))
    };
    // `x + y` in either order, as `f` accepts them.
    let sum = |id: NodeId, f: &dyn Fn(NodeId, NodeId) -> Option<[usize; 4]>| {
        let (a, b) = binary(id, BinaryOp::Add)?;
        f(a, b).or_else(|| f(b, a))
    };
    // w' = w - lr · (m' / (sqrt(s') + eps))
    let (w, step) = binary(root, BinaryOp::Sub)?;
    let (lr, ratio) = scaled(step)?;
    let (m2, den) = binary(ratio, BinaryOp::Div)?;
    let (a, b) = binary(den, BinaryOp::Add)?;
    let (root_s, eps) = match (scalar(a), scalar(b)) {
        (None, Some(k)) => (a, k),
        (Some(k), None) => (b, k),
        _ => return None,
    };
    let s2 = match (&graph.node(root_s).op, &graph.node(root_s).inputs[..]) {
        (Op::Unary(UnaryOp::Sqrt), &[x]) if member(root_s) => x,
        _ => return None,
    };
    // s' = b2 · s + c2 · (g · g)
    let [b2, s, c2, g] = sum(s2, &|x, y| {
        let ((b2, s), (c2, gg)) = (scaled(x)?, scaled(y)?);
        let (g1, g2) = binary(gg, BinaryOp::Mul)?;
        (g1 == g2).then_some([b2, dense(s)?, c2, dense(g1)?])
    })?;
    // m' = b1 · m + c1 · g
    let [b1, m, c1, _] = sum(m2, &|x, y| {
        let ((b1, m), (c1, g1)) = (scaled(x)?, scaled(y)?);
        (dense(g1) == Some(g)).then_some([b1, dense(m)?, c1, g])
    })?;
    let stored = group.stored();
    let at = |id: NodeId| stored.iter().position(|&o| o == id);
    if stored.len() != 3 {
        return None;
    }
    Some(Update {
        dense: [g, m, s, dense(w)?],
        scalars: [b1, c1, b2, c2, lr, eps],
        outputs: [at(m2)?, at(s2)?, at(root)?],
    })
}

/// Whether recognised updates call the wide kernel (off in tests comparing
/// with the `f32x4` kernel, see [`without_wide`]).
pub(crate) fn wide() -> bool {
    switch::on(Feature::Wide)
}

/// Runs `f` with recognised updates compiled as ordinary fused kernels on
/// this thread.
#[cfg(test)]
pub(crate) fn without_wide<T>(f: impl FnOnce() -> T) -> T {
    switch::without(Feature::Wide, f)
}

/// Builds the kernel of a recognised update: the range check of a fused
/// kernel over the same nest, then one call on the range's elements.
pub(crate) fn compile(
    jit: &mut Jit,
    graph: &Graph,
    group: &Group,
    update: &Update,
    check: bool,
) -> Result<(FuncId, (usize, usize)), Diag> {
    let root = group.root().ok_or_else(|| internal("empty fused group"))?;
    let dims = graph.ty(root).shape.dims();
    let mut operands = group.operands(graph);
    operands.extend(group.stored().iter().map(|_| Operand::Dense(dims)));
    let nest = Nest::of(dims, &operands)?;
    let lens: Vec<i64> = operands.iter().map(|o| o.len() as i64).collect();
    let outer = nest.dims.first().copied().unwrap_or(0);
    let per: usize = nest.dims.iter().skip(1).product();
    jit.begin();
    let config = jit.module.target_config();
    let ptr = jit.ptr_type();
    let mut params = vec![ptr; 7];
    params.push(types::I64);
    params.extend([types::F32; 6]);
    let callee = jit.import("tdsl_adam_f32", &params, &[])?;
    let callee = jit.module.declare_func_in_func(callee, &mut jit.ctx.func);
    let b = FunctionBuilder::new(&mut jit.ctx.func, &mut jit.builder_ctx);
    let mut e = Emitter::new(b, config, lens.clone(), check);
    let (lo, hi) = e.range(lens.len(), outer as i64);
    let first = e.b.ins().imul_imm_s(lo, per as i64);
    let last = e.b.ins().imul_imm_s(hi, per as i64);
    let n = e.b.ins().isub(last, first);
    let leaves = group.leaves.len();
    let mut args: Vec<Value> = Vec::with_capacity(14);
    let slots = update
        .dense
        .iter()
        .copied()
        .chain(update.outputs.map(|j| leaves + j));
    for k in slots {
        args.push(e.address_n(k, first, n, 4));
    }
    args.push(n);
    for k in update.scalars {
        args.push(scalar(&mut e, graph, group.leaves[k], k));
    }
    e.b.ins().call(callee, &args);
    e.finish();
    Ok((jit.define("adam")?, (outer, per)))
}

/// A scalar leaf's value: an immediate for a constant, else a load.
fn scalar(e: &mut Emitter, graph: &Graph, id: NodeId, k: usize) -> Value {
    if let Op::Const(t) = &graph.node(id).op {
        if let Tensor::F32(a) = &**t {
            if let Some(&v) = a.iter().next() {
                return e.b.ins().f32const(Ieee32::with_bits(v.to_bits()));
            }
        }
    }
    let zero = e.b.ins().iconst(types::I64, 0);
    let addr = e.address(k, zero, 1, 4);
    let flags = MemFlagsData::new().with_notrap().with_readonly();
    e.b.ins().load(types::F32, flags, addr, 0)
}

/// The update of `n` elements on the process's instruction set.
///
/// # Safety
/// Each pointer is valid for `n` `f32`s; an output is one of the inputs (the
/// same address) or overlaps none (JIT code passes the same checked range of
/// every operand, and an output written in place takes a whole leaf buffer).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn tdsl_adam_f32(
    g: *const f32,
    m: *const f32,
    s: *const f32,
    w: *const f32,
    m_out: *mut f32,
    s_out: *mut f32,
    w_out: *mut f32,
    n: i64,
    b1: f32,
    c1: f32,
    b2: f32,
    c2: f32,
    lr: f32,
    eps: f32,
) {
    let p = Params {
        b1,
        c1,
        b2,
        c2,
        lr,
        eps,
    };
    let b = Buffers {
        g,
        m,
        s,
        w,
        m_out,
        s_out,
        w_out,
    };
    // SAFETY: `isa::active` runs here (chosen by `isa::select`); the
    // pointers are this function's contract.
    unsafe { adam::update(isa::active(), &p, b, usize::try_from(n).unwrap_or(0)) };
}
