//! Backward rules of `cond` and `fold`, built from the existing control ops.
//!
//! A region has one result, so a backward region that must yield several
//! adjoints *packs* them: each is flattened (and cast to one float dtype) and
//! the pieces are concatenated into one vector; the outer graph slices them
//! back out. See `docs/autodiff.md` for the design.
//!
//! - `cond(p, then, else)`: one backward `Cond` on the same predicate; each
//!   branch re-runs the forward branch (inlined), sweeps it from the cotangent
//!   and yields the packed adjoints of the float captures. Only the taken branch
//!   runs, so gradient flows only through it.
//! - `fold(body, init, xs)`: a *history* fold re-runs the forward loop carrying
//!   `[acc | acc_0 .. acc_{T-1}]` (a shift register of the accumulators before
//!   each step); a *reverse* fold runs over `t = T-1 .. 0`, carrying the packed
//!   `[d acc | d captures... | d xs]`, re-running step `t` from `hist[t]`, `xs[t]`
//!   and sweeping it. Nothing is unrolled; `T = 0` needs no loop.

use super::emit::Emit;
use super::sweep;
use crate::ir::{DType, GradOp, Graph, Node, NodeId, Op, Tensor, TensorType};
use crate::syntax::{Diag, Span};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// Copies `region`'s nodes into `e.graph`, with `Param(i)` replaced by `args[i]`;
/// returns the copy of its single result.
fn inline(e: &mut Emit, region: &Graph, args: &[NodeId]) -> Result<NodeId, Diag> {
    let mut map: Vec<NodeId> = Vec::with_capacity(region.len());
    for node in &region.nodes {
        let new_id = match node.op {
            Op::Param(i) => *args
                .get(i)
                .ok_or_else(|| e.bug(format!("region parameter {i} has no argument")))?,
            _ => {
                let inputs = node
                    .inputs
                    .iter()
                    .map(|input| map.get(input.index()).copied())
                    .collect::<Option<Vec<NodeId>>>()
                    .ok_or_else(|| e.bug("a region node uses a later node"))?;
                e.graph
                    .add(node.op.clone(), inputs, node.ty.clone(), node.span)
            }
        };
        map.push(new_id);
    }
    match region.results.as_slice() {
        [result] => map
            .get(result.index())
            .copied()
            .ok_or_else(|| e.bug("the region's result is not one of its nodes")),
        other => Err(e.bug(format!("a region with {} results", other.len()))),
    }
}

/// Flattens `parts` (cast to `dtype`) into one vector.
fn pack(e: &mut Emit, parts: &[NodeId], dtype: DType) -> Result<NodeId, Diag> {
    let mut flat = Vec::with_capacity(parts.len());
    for &p in parts {
        let cast = e.cast(p, dtype);
        flat.push(e.flat(cast)?);
    }
    let total: usize = parts.iter().map(|&p| e.graph.ty(p).shape.numel()).sum();
    if total == 0 {
        return Ok(e.zeros(&TensorType::new(dtype, vec![0])));
    }
    e.concat(&flat, 0)
}

/// The inverse of [`pack`]: one node of each of `types`.
fn unpack(e: &mut Emit, packed: NodeId, types: &[TensorType]) -> Result<Vec<NodeId>, Diag> {
    let mut offset = 0;
    let mut out = Vec::with_capacity(types.len());
    for ty in types {
        let n = ty.shape.numel();
        if n == 0 {
            out.push(e.zeros(ty));
            continue;
        }
        let piece = e.slice(packed, &[offset], &[n])?;
        let shaped = e.reshape(piece, ty.shape.dims())?;
        out.push(e.cast(shaped, ty.dtype));
        offset += n;
    }
    Ok(out)
}

/// Params `0..types.len()` of a new region.
fn params(e: &mut Emit, types: &[TensorType]) -> Vec<NodeId> {
    (0..types.len())
        .map(|i| e.add(Op::Param(i), vec![], types[i].clone()))
        .collect()
}

/// The adjoint of `x` from a sweep, or zeros.
fn adjoint_or_zeros(e: &mut Emit, adjoint: &[Option<NodeId>], x: NodeId) -> NodeId {
    match adjoint.get(x.index()).copied().flatten() {
        Some(a) => a,
        None => {
            let ty = e.ty(x);
            e.zeros(&ty)
        }
    }
}

/// `y = cond(p, then(caps), else(caps))`: d caps = cond(p, then'(caps, g), else'(caps, g)).
pub(crate) fn cond(
    e: &mut Emit,
    then_body: &Graph,
    else_body: &Graph,
    node: &Node,
    g: NodeId,
) -> Contributions {
    let captures = node.inputs.get(1..).unwrap_or(&[]);
    let cap_types: Vec<TensorType> = captures.iter().map(|&c| e.ty(c)).collect();
    let wanted: Vec<usize> = (0..captures.len())
        .filter(|&k| cap_types[k].dtype.is_float())
        .collect();
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let g_ty = e.ty(g);
    let then_bwd = cond_branch(then_body, &cap_types, &g_ty, &wanted, e.span)?;
    let else_bwd = cond_branch(else_body, &cap_types, &g_ty, &wanted, e.span)?;
    let total = wanted.iter().map(|&k| cap_types[k].shape.numel()).sum();
    let mut inputs = node.inputs.clone();
    inputs.push(g);
    let op = Op::Cond {
        then_body: Box::new(then_bwd),
        else_body: Box::new(else_bwd),
    };
    let packed = e.add(op, inputs, TensorType::new(g_ty.dtype, vec![total]));
    let wanted_types: Vec<TensorType> = wanted.iter().map(|&k| cap_types[k].clone()).collect();
    let pieces = unpack(e, packed, &wanted_types)?;
    let mut out = vec![None; node.inputs.len()];
    for (&k, piece) in wanted.iter().zip(pieces) {
        out[1 + k] = Some(piece);
    }
    Ok(out)
}

/// The backward region of one branch: params `(caps..., g)`, result the packed
/// adjoints of the `wanted` captures.
fn cond_branch(
    branch: &Graph,
    cap_types: &[TensorType],
    g_ty: &TensorType,
    wanted: &[usize],
    span: Span,
) -> Result<Graph, Diag> {
    let mut types = cap_types.to_vec();
    types.push(g_ty.clone());
    let mut region = Graph::region(types.clone());
    let mut e = Emit::new(&mut region, span);
    let args = params(&mut e, &types);
    let (caps, g) = (&args[..cap_types.len()], args[cap_types.len()]);
    let floor = e.graph.len();
    let result = inline(&mut e, branch, caps)?;
    let adjoint = sweep(e.graph, &[(result, g)], floor)?;
    let mut e = Emit::new(&mut region, span);
    let parts: Vec<NodeId> = wanted
        .iter()
        .map(|&k| adjoint_or_zeros(&mut e, &adjoint, caps[k]))
        .collect();
    let packed = pack(&mut e, &parts, g_ty.dtype)?;
    region.results = vec![packed];
    Ok(region)
}

/// `y = fold(body, init, xs, caps)`: reaches init, xs (if float) and the float captures.
pub(crate) fn fold(e: &mut Emit, body: &Graph, y: NodeId, node: &Node, g: NodeId) -> Contributions {
    let Some(&xs) = node.inputs.get(1) else {
        return Err(e.bug("fold needs inputs [init, xs, captures...]"));
    };
    let captures = &node.inputs[2..];
    let acc_ty = e.ty(y);
    let xs_ty = e.ty(xs);
    let steps = xs_ty.shape.dims().first().copied().unwrap_or(0);
    if steps == 0 || acc_ty.shape.numel() == 0 {
        // No step runs: y = init.
        return Ok(vec![Some(g)]);
    }
    let hist = history(e, body, node, steps)?;
    // The carried adjoints: acc, the float captures, xs when it is float.
    let wanted: Vec<usize> = (0..captures.len())
        .filter(|&k| e.dtype(captures[k]).is_float())
        .collect();
    let xs_float = xs_ty.dtype.is_float();
    let mut carried = vec![acc_ty.clone()];
    carried.extend(wanted.iter().map(|&k| e.ty(captures[k])));
    if xs_float {
        carried.push(xs_ty.clone());
    }
    let mut start = vec![g];
    for ty in &carried[1..] {
        start.push(e.zeros(ty));
    }
    let state0 = pack(e, &start, acc_ty.dtype)?;
    let state_ty = e.ty(state0);
    let ts_ty = TensorType::new(DType::I32, vec![steps]);
    let ts_values = (0..steps).rev().map(|t| t as f64).collect();
    let ts = Tensor::from_f64_vec(&ts_ty, ts_values).ok_or_else(|| e.bug("step indices"))?;
    let ts = e.constant(ts);
    let hist_ty = e.ty(hist);
    let reverse_body = reverse_body(
        e, body, node, &state_ty, &carried, &wanted, xs_float, &hist_ty,
    )?;
    let mut inputs = vec![state0, ts];
    inputs.extend_from_slice(captures);
    inputs.push(xs);
    inputs.push(hist);
    let op = Op::Fold {
        body: Box::new(reverse_body),
    };
    let done = e.add(op, inputs, state_ty);
    let pieces = unpack(e, done, &carried)?;
    let mut out = vec![None; node.inputs.len()];
    out[0] = Some(pieces[0]);
    for (i, &k) in wanted.iter().enumerate() {
        out[2 + k] = Some(pieces[1 + i]);
    }
    if xs_float {
        out[1] = pieces.last().copied();
    }
    Ok(out)
}

/// Re-runs the forward loop and returns `[T, acc...]`: row `t` is the
/// accumulator before step `t`.
fn history(e: &mut Emit, body: &Graph, node: &Node, steps: usize) -> Result<NodeId, Diag> {
    let (init, xs) = (node.inputs[0], node.inputs[1]);
    let acc_ty = e.ty(init);
    let n = acc_ty.shape.numel();
    let dtype = acc_ty.dtype;
    let empty_hist = e.zeros(&TensorType::new(dtype, vec![steps * n]));
    let state0 = pack(e, &[init, empty_hist], dtype)?;
    let state_ty = e.ty(state0);
    // Body params: (state, x, captures...), like the forward body's (acc, x, captures...).
    let mut types = body.params.clone();
    match types.first_mut() {
        Some(first) => *first = state_ty.clone(),
        None => return Err(e.bug("a fold body without parameters")),
    }
    let mut region = Graph::region(types.clone());
    let mut r = Emit::new(&mut region, e.span);
    let mut args = params(&mut r, &types);
    let acc_flat = r.slice(args[0], &[0], &[n])?;
    let acc = r.reshape(acc_flat, acc_ty.shape.dims())?;
    let older = r.slice(args[0], &[2 * n], &[(steps - 1) * n])?;
    args[0] = acc;
    let next = inline(&mut r, body, &args)?;
    let next_flat = r.flat(next)?;
    let state = r.concat(&[next_flat, older, acc_flat], 0)?;
    region.results = vec![state];
    let mut inputs = vec![state0, xs];
    inputs.extend_from_slice(&node.inputs[2..]);
    let done = e.add(
        Op::Fold {
            body: Box::new(region),
        },
        inputs,
        state_ty,
    );
    let hist_flat = e.slice(done, &[n], &[steps * n])?;
    let mut dims = vec![steps];
    dims.extend_from_slice(acc_ty.shape.dims());
    e.reshape(hist_flat, &dims)
}

/// The reverse body: params `(state, t, captures..., xs, hist)`; one backward step.
#[allow(clippy::too_many_arguments)]
fn reverse_body(
    e: &mut Emit,
    body: &Graph,
    node: &Node,
    state_ty: &TensorType,
    carried: &[TensorType],
    wanted: &[usize],
    xs_float: bool,
    hist_ty: &TensorType,
) -> Result<Graph, Diag> {
    let captures = &node.inputs[2..];
    let acc_ty = carried[0].clone();
    let xs_ty = e.ty(node.inputs[1]);
    let x_ty = body
        .params
        .get(1)
        .cloned()
        .ok_or_else(|| e.bug("a fold body without an x parameter"))?;
    let mut types = vec![state_ty.clone(), TensorType::scalar(DType::I32)];
    types.extend(captures.iter().map(|&c| e.ty(c)));
    types.push(xs_ty.clone());
    types.push(hist_ty.clone());
    let mut region = Graph::region(types.clone());
    let mut r = Emit::new(&mut region, e.span);
    let args = params(&mut r, &types);
    let (state, t) = (args[0], args[1]);
    let caps = &args[2..2 + captures.len()];
    let (p_xs, p_hist) = (args[2 + captures.len()], args[3 + captures.len()]);
    let parts = unpack(&mut r, state, carried)?;
    let acc_t = r.add(Op::Index, vec![p_hist, t], acc_ty.clone());
    let x_t = r.add(Op::Index, vec![p_xs, t], x_ty);
    let mut body_args = vec![acc_t, x_t];
    body_args.extend_from_slice(caps);
    let floor = r.graph.len();
    let result = inline(&mut r, body, &body_args)?;
    let adjoint = sweep(r.graph, &[(result, parts[0])], floor)?;
    let mut r = Emit::new(&mut region, e.span);
    let mut next = vec![adjoint_or_zeros(&mut r, &adjoint, acc_t)];
    for (i, &k) in wanted.iter().enumerate() {
        let running = parts[1 + i];
        next.push(match adjoint.get(caps[k].index()).copied().flatten() {
            Some(d) => r.add2(running, d)?,
            None => running,
        });
    }
    if xs_float {
        let running = parts[parts.len() - 1];
        next.push(match adjoint.get(x_t.index()).copied().flatten() {
            Some(d) => {
                let scattered = r.add(Op::Grad(GradOp::ScatterIndex), vec![d, t], xs_ty);
                r.add2(running, scattered)?
            }
            None => running,
        });
    }
    let packed = pack(&mut r, &next, acc_ty.dtype)?;
    region.results = vec![packed];
    Ok(region)
}
