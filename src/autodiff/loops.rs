//! Backward rules of `fold` and of autodiff's own `scan`, both in `O(T)`: a
//! *history* scan re-runs the forward loop and emits the state before each step,
//! a *reverse* scan sweeps the body back from the carried adjoints
//! (`docs/autodiff.md`, "fold").

use super::control::{adjoint_or_zeros, inline, pack, params, unpack};
use super::emit::Emit;
use super::sweep;
use crate::diag::Diag;
use crate::ir::{DType, Graph, Node, NodeId, Op, Tensor, TensorType};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// What differs between a `fold` and a `scan` being differentiated.
struct Loop<'a> {
    body: &'a Graph,
    /// The body's state parameter (fold: the accumulator; scan: `[carry]`).
    state_ty: TensorType,
    /// Elements of the state.
    n: usize,
    /// Elements of each step's output (0 for a fold).
    out_n: usize,
    reverse: bool,
    steps: usize,
}

/// `y = fold(body, init, xs, caps)`: reaches init, xs (if float) and the float captures.
pub(crate) fn fold(e: &mut Emit, body: &Graph, y: NodeId, node: &Node, g: NodeId) -> Contributions {
    let Some(&xs) = node.inputs.get(1) else {
        return Err(e.bug("fold needs inputs [init, xs, captures...]"));
    };
    let state_ty = e.ty(y);
    let steps = e.dims(xs).first().copied().unwrap_or(0);
    let n = state_ty.shape.numel();
    if steps == 0 || n == 0 {
        // No step runs: y = init.
        return Ok(vec![Some(g)]);
    }
    let lp = Loop {
        body,
        state_ty,
        n,
        out_n: 0,
        reverse: false,
        steps,
    };
    backward(e, &lp, node, g, None)
}

/// `v = scan(body, init, xs, caps) = [final state | y_0 .. y_{T-1}]`.
pub(crate) fn scan(
    e: &mut Emit,
    body: &Graph,
    (reverse, carry): (bool, usize),
    y: NodeId,
    node: &Node,
    g: NodeId,
) -> Contributions {
    let Some(&xs) = node.inputs.get(1) else {
        return Err(e.bug("scan needs inputs [init, xs, captures...]"));
    };
    let steps = e.dims(xs).first().copied().unwrap_or(0);
    let total = e.ty(y).shape.numel();
    let g_state = e.slice(g, &[0], &[carry])?;
    if steps == 0 {
        return Ok(vec![Some(g_state)]);
    }
    if carry == 0 {
        return Err(Diag::unsupported(
            "a gradient through a scan without a carried state",
            e.span,
        ));
    }
    let out_n = (total - carry) / steps;
    let gys = if out_n > 0 {
        let flat = e.slice(g, &[carry], &[steps * out_n])?;
        Some(e.reshape(flat, &[steps, out_n])?)
    } else {
        None
    };
    let lp = Loop {
        body,
        state_ty: TensorType::new(e.dtype(y), vec![carry]),
        n: carry,
        out_n,
        reverse,
        steps,
    };
    backward(e, &lp, node, g_state, gys)
}

/// The shared construction: `g_state` is the cotangent of the final state (in
/// the state's type), `gys` that of the outputs (`[T, out_n]`).
fn backward(
    e: &mut Emit,
    lp: &Loop,
    node: &Node,
    g_state: NodeId,
    gys: Option<NodeId>,
) -> Contributions {
    let (xs, captures) = (node.inputs[1], &node.inputs[2..]);
    let hist = history(e, lp, node)?;
    let wanted: Vec<usize> = (0..captures.len())
        .filter(|&k| e.dtype(captures[k]).is_float())
        .collect();
    let xs_ty = e.ty(xs);
    let x_n = if xs_ty.dtype.is_float() {
        xs_ty.shape.numel() / lp.steps
    } else {
        0
    };
    let dtype = e.dtype(g_state);
    let mut carried = vec![lp.state_ty.clone()];
    carried.extend(wanted.iter().map(|&k| e.ty(captures[k])));
    let mut start = vec![g_state];
    for ty in &carried[1..] {
        start.push(e.zeros(ty));
    }
    let state0 = pack(e, &start, dtype)?;
    let carry = e.ty(state0).shape.numel();
    let ts_ty = TensorType::new(DType::I32, vec![lp.steps]);
    let ts_values = (0..lp.steps).map(|t| t as f64).collect();
    let ts = Tensor::from_f64_vec(&ts_ty, ts_values).ok_or_else(|| e.bug("step indices"))?;
    let ts = e.constant(ts);
    let mut inputs = vec![state0, ts, xs, hist];
    inputs.extend(gys);
    inputs.extend_from_slice(captures);
    let mut types: Vec<TensorType> = inputs.iter().map(|&i| e.ty(i)).collect();
    types[1] = TensorType::scalar(DType::I32);
    let region = reverse_body(e, lp, &types, &carried, &wanted, x_n)?;
    let op = Op::Scan {
        body: Box::new(region),
        reverse: !lp.reverse,
        carry,
    };
    let ty = TensorType::new(dtype, vec![carry + lp.steps * x_n]);
    let done = e.add(op, inputs, ty);
    let pieces = unpack(e, done, &carried)?;
    let mut out = vec![None; node.inputs.len()];
    out[0] = Some(pieces[0]);
    for (i, &k) in wanted.iter().enumerate() {
        out[2 + k] = Some(pieces[1 + i]);
    }
    if x_n > 0 {
        let flat = e.slice(done, &[carry], &[lp.steps * x_n])?;
        let shaped = e.reshape(flat, xs_ty.shape.dims())?;
        out[1] = Some(e.cast(shaped, xs_ty.dtype));
    }
    Ok(out)
}

/// One forward step inside a region from the flat state `s`: the next state
/// (in the state's type) and the step's output, if any.
fn step(
    r: &mut Emit,
    lp: &Loop,
    s: NodeId,
    x: NodeId,
    caps: &[NodeId],
) -> Result<(NodeId, Option<NodeId>), Diag> {
    let state = r.reshape(s, lp.state_ty.shape.dims())?;
    let mut args = vec![state, x];
    args.extend_from_slice(caps);
    let result = inline(r, lp.body, &args)?;
    if lp.out_n == 0 {
        return Ok((result, None));
    }
    let next = r.slice(result, &[0], &[lp.n])?;
    let y = r.slice(result, &[lp.n], &[lp.out_n])?;
    Ok((next, Some(y)))
}

/// Re-runs the loop and returns `[T, n]`: row `t` is the flat state before step `t`.
fn history(e: &mut Emit, lp: &Loop, node: &Node) -> Result<NodeId, Diag> {
    let n = lp.n;
    let init = e.flat(node.inputs[0])?;
    let mut types = lp.body.params.clone();
    match types.first_mut() {
        Some(first) => *first = TensorType::new(lp.state_ty.dtype, vec![n]),
        None => return Err(e.bug("a loop body without parameters")),
    }
    let mut region = Graph::region(types.clone());
    let mut r = Emit::new(&mut region, e.span);
    let args = params(&mut r, &types);
    let (next, _) = step(&mut r, lp, args[0], args[1], &args[2..])?;
    let next = r.flat(next)?;
    let result = r.concat(&[next, args[0]], 0)?;
    region.results = vec![result];
    let mut inputs = vec![init, node.inputs[1]];
    inputs.extend_from_slice(&node.inputs[2..]);
    let op = Op::Scan {
        body: Box::new(region),
        reverse: lp.reverse,
        carry: n,
    };
    let ty = TensorType::new(lp.state_ty.dtype, vec![n + lp.steps * n]);
    let done = e.add(op, inputs, ty);
    let rows = e.slice(done, &[n], &[lp.steps * n])?;
    e.reshape(rows, &[lp.steps, n])
}

/// The reverse body: params `(state, t, xs, hist, [gys,] caps...)`; one backward
/// step, result `[d state | d caps... | d x_t]`.
fn reverse_body(
    e: &mut Emit,
    lp: &Loop,
    types: &[TensorType],
    carried: &[TensorType],
    wanted: &[usize],
    x_n: usize,
) -> Result<Graph, Diag> {
    let x_ty = lp
        .body
        .params
        .get(1)
        .cloned()
        .ok_or_else(|| e.bug("a loop body without an x parameter"))?;
    let dtype = types[0].dtype;
    let mut region = Graph::region(types.to_vec());
    let mut r = Emit::new(&mut region, e.span);
    let args = params(&mut r, types);
    let (state, t, p_xs, p_hist) = (args[0], args[1], args[2], args[3]);
    let first_cap = if lp.out_n > 0 { 5 } else { 4 };
    let caps = &args[first_cap..];
    let parts = unpack(&mut r, state, carried)?;
    let flat_ty = TensorType::new(lp.state_ty.dtype, vec![lp.n]);
    let s_t = r.add(Op::Index, vec![p_hist, t], flat_ty);
    let x_t = r.add(Op::Index, vec![p_xs, t], x_ty);
    let gy_t = (lp.out_n > 0).then(|| {
        let ty = TensorType::new(dtype, vec![lp.out_n]);
        r.add(Op::Index, vec![args[4], t], ty)
    });
    let floor = r.graph.len();
    let (next, y) = step(&mut r, lp, s_t, x_t, caps)?;
    let mut seeds = vec![(next, parts[0])];
    if let (Some(y), Some(gy)) = (y, gy_t) {
        seeds.push((y, gy));
    }
    let adjoint = sweep(r.graph, &seeds, floor)?;
    let mut r = Emit::new(&mut region, e.span);
    let d_state = adjoint_or_zeros(&mut r, &adjoint, s_t);
    let mut pieces = vec![r.reshape(d_state, lp.state_ty.shape.dims())?];
    for (i, &k) in wanted.iter().enumerate() {
        let running = parts[1 + i];
        pieces.push(match adjoint.get(caps[k].index()).copied().flatten() {
            Some(d) => r.add2(running, d)?,
            None => running,
        });
    }
    if x_n > 0 {
        pieces.push(adjoint_or_zeros(&mut r, &adjoint, x_t));
    }
    let packed = pack(&mut r, &pieces, dtype)?;
    region.results = vec![packed];
    Ok(region)
}
