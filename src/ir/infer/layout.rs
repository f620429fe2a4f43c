//! Inference for movement, network, control-flow and state ops.

use super::{arity, list, need_axis, need_float, same_dtype};
use crate::ir::graph::Graph;
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};

pub(super) fn infer_rest(op: &Op, inputs: &[&TensorType]) -> Result<TensorType, String> {
    let name = op.name();
    match op {
        Op::Transpose { perm } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            let mut seen = vec![false; x.shape.rank()];
            if perm.len() != x.shape.rank() {
                return Err(format!(
                    "transpose: the permutation {} has {} entries but {x} has rank {}",
                    list(perm),
                    perm.len(),
                    x.shape.rank()
                ));
            }
            for &p in perm {
                match seen.get_mut(p) {
                    Some(s) if !*s => *s = true,
                    _ => {
                        return Err(format!(
                            "transpose: {} is not a permutation of the axes of {x}",
                            list(perm)
                        ))
                    }
                }
            }
            let dims = perm.iter().map(|&p| x.shape.0[p]).collect();
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Concat { axis } => {
            let first = inputs
                .first()
                .ok_or_else(|| "concat: needs at least one tensor".to_string())?;
            need_axis("concat", first, *axis)?;
            let mut dims = first.shape.0.clone();
            for x in &inputs[1..] {
                same_dtype("concat", first, x)?;
                let compatible = x.shape.rank() == first.shape.rank()
                    && x.shape
                        .0
                        .iter()
                        .zip(&first.shape.0)
                        .enumerate()
                        .all(|(i, (a, b))| i == *axis || a == b);
                if !compatible {
                    return Err(format!(
                        "concat: shapes differ outside axis {axis}: {first} and {x}"
                    ));
                }
                dims[*axis] = dims[*axis]
                    .checked_add(x.shape.0[*axis])
                    .ok_or_else(|| format!("tensor too large: concat of {first} and {x}"))?;
            }
            Ok(TensorType::new(first.dtype, dims))
        }
        Op::Index => {
            arity(&name, inputs, 2)?;
            let (x, i) = (inputs[0], inputs[1]);
            if x.shape.rank() == 0 {
                return Err(format!("index: cannot index the scalar {x}"));
            }
            if i.dtype != DType::I32 || i.shape.rank() != 0 {
                return Err(format!("index: the index must be an i32[] scalar, got {i}"));
            }
            Ok(TensorType::new(x.dtype, x.shape.0[1..].to_vec()))
        }
        Op::Pad { pads, .. } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            if pads.len() != x.shape.rank() {
                return Err(format!(
                    "pad: {} [before, after] pairs given for {x} of rank {}",
                    pads.len(),
                    x.shape.rank()
                ));
            }
            let mut dims = Vec::new();
            for (d, [b, a]) in x.shape.0.iter().zip(pads) {
                let n = d.checked_add(*b).and_then(|n| n.checked_add(*a));
                dims.push(n.ok_or_else(|| format!("tensor too large: padding {x}"))?);
            }
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::OneHot { depth } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            if x.dtype != DType::I32 {
                return Err(format!(
                    "one_hot: labels must be i32, got {x}; use cast(x, i32)"
                ));
            }
            let mut dims = x.shape.0.clone();
            dims.push(*depth);
            Ok(TensorType::new(DType::F32, dims))
        }
        Op::MatMul => {
            arity(&name, inputs, 2)?;
            matmul(inputs[0], inputs[1])
        }
        Op::Conv2d { strides, pads } => {
            arity(&name, inputs, 2)?;
            conv2d(inputs[0], inputs[1], *strides, *pads)
        }
        Op::Softmax { axis } | Op::LogSoftmax { axis } => {
            arity(&name, inputs, 1)?;
            need_float(&name, inputs[0])?;
            need_axis(&name, inputs[0], *axis)?;
            Ok(inputs[0].clone())
        }
        Op::SoftmaxCrossEntropy => {
            arity(&name, inputs, 2)?;
            let (logits, labels) = (inputs[0], inputs[1]);
            need_float(&name, logits)?;
            if logits.shape.rank() != 2 || logits != labels {
                return Err(format!(
                    "softmax_cross_entropy: logits and labels must have one float type [N, C], got {logits} and {labels}"
                ));
            }
            Ok(TensorType::scalar(logits.dtype))
        }
        Op::MeanSquaredError => {
            arity(&name, inputs, 2)?;
            let (p, t) = (inputs[0], inputs[1]);
            need_float(&name, p)?;
            if p != t {
                return Err(format!(
                    "mean_squared_error: prediction and target must have the same type, got {p} and {t}"
                ));
            }
            Ok(TensorType::scalar(p.dtype))
        }
        Op::Cond {
            then_body,
            else_body,
        } => {
            let pred = inputs
                .first()
                .ok_or_else(|| "cond: missing predicate".to_string())?;
            if **pred != TensorType::scalar(DType::Bool) {
                return Err(format!("cond: the predicate must be bool[], got {pred}"));
            }
            let then_ty = region_result("cond (then)", then_body, &inputs[1..], 0)?;
            let else_ty = region_result("cond (else)", else_body, &inputs[1..], 0)?;
            if then_ty != else_ty {
                return Err(format!(
                    "cond: the branches differ: {then_ty} and {else_ty}"
                ));
            }
            Ok(then_ty)
        }
        Op::Fold { body } => {
            if inputs.len() < 2 {
                return Err("fold: expects [init, xs, captures...]".into());
            }
            let (init, xs) = (inputs[0], inputs[1]);
            if xs.shape.rank() == 0 {
                return Err(format!("fold: xs must have rank at least 1, got {xs}"));
            }
            let x = TensorType::new(xs.dtype, xs.shape.0[1..].to_vec());
            let expected_params = [init, &x];
            for (i, p) in expected_params.iter().enumerate() {
                if body.params.get(i) != Some(*p) {
                    return Err(format!("fold: body parameter {i} is not {p}"));
                }
            }
            let out = region_result("fold", body, &inputs[2..], 2)?;
            if &out != init {
                return Err(format!(
                    "fold: the body gives {out} but the accumulator is {init}"
                ));
            }
            Ok(out)
        }
        Op::Scan { body, carry, .. } => scan(body, *carry, inputs),
        Op::Assign { .. } => {
            arity(&name, inputs, 1)?;
            Ok(inputs[0].clone())
        }
        Op::Group => Ok(TensorType::scalar(DType::Bool)),
        _ => Err(format!("{name}: no inference rule")),
    }
}

/// `scan`: `[carry + T * out_n]`, `out_n` from the body's result length.
fn scan(body: &Graph, carry: usize, inputs: &[&TensorType]) -> Result<TensorType, String> {
    let [init, xs, captures @ ..] = inputs else {
        return Err("scan: expects [init, xs, captures...]".into());
    };
    if init.shape.dims() != [carry] {
        return Err(format!("scan: the state must be [{carry}], got {init}"));
    }
    let Some((&steps, row)) = xs.shape.dims().split_first() else {
        return Err(format!("scan: xs must have rank at least 1, got {xs}"));
    };
    let x = TensorType::new(xs.dtype, row.to_vec());
    for (i, p) in [*init, &x].iter().enumerate() {
        if body.params.get(i) != Some(*p) {
            return Err(format!("scan: body parameter {i} is not {p}"));
        }
    }
    let out = region_result("scan", body, captures, 2)?;
    match out.shape.dims() {
        [n] if *n >= carry && out.dtype == init.dtype => Ok(TensorType::new(
            init.dtype,
            vec![carry + steps * (n - carry)],
        )),
        _ => Err(format!(
            "scan: the body gives {out}, not a {} vector of at least {carry}",
            init.dtype
        )),
    }
}

/// Checks a region's captured params against the inputs and returns its result type.
fn region_result(
    what: &str,
    region: &Graph,
    captures: &[&TensorType],
    fixed: usize,
) -> Result<TensorType, String> {
    if region.params.len() != fixed + captures.len()
        || region.params[fixed..]
            .iter()
            .zip(captures)
            .any(|(p, c)| p != *c)
    {
        return Err(format!(
            "{what}: region parameters do not match the captures"
        ));
    }
    match region.results.as_slice() {
        [r] if r.index() < region.nodes.len() => Ok(region.ty(*r).clone()),
        _ => Err(format!("{what}: a region must have exactly one result")),
    }
}

fn matmul(a: &TensorType, b: &TensorType) -> Result<TensorType, String> {
    need_float("matmul", a)?;
    same_dtype("matmul", a, b)?;
    if a.shape.rank() < 2 || b.shape.rank() < 2 {
        return Err(format!(
            "matmul: operands must have rank 2 or more (batched), got {a} @ {b}; use reshape for vectors"
        ));
    }
    let (ra, rb) = (a.shape.rank(), b.shape.rank());
    let (n, k1) = (a.shape.0[ra - 2], a.shape.0[ra - 1]);
    let (k2, m) = (b.shape.0[rb - 2], b.shape.0[rb - 1]);
    if k1 != k2 {
        return Err(format!("matmul: inner dimensions differ: {a} @ {b}"));
    }
    let batch_a = crate::ir::Shape(a.shape.0[..ra - 2].to_vec());
    let batch_b = crate::ir::Shape(b.shape.0[..rb - 2].to_vec());
    let batch = super::broadcast_shapes(&batch_a, &batch_b)
        .ok_or_else(|| format!("matmul: batch dimensions do not broadcast: {a} @ {b}"))?;
    let mut dims = batch.0;
    dims.push(n);
    dims.push(m);
    Ok(TensorType::new(a.dtype, dims))
}

fn conv2d(
    x: &TensorType,
    w: &TensorType,
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<TensorType, String> {
    need_float("conv2d", x)?;
    same_dtype("conv2d", x, w)?;
    if x.shape.rank() != 4 {
        return Err(format!("conv2d: the input must be NHWC (rank 4), got {x}"));
    }
    if w.shape.rank() != 4 {
        return Err(format!("conv2d: the filter must be HWIO (rank 4), got {w}"));
    }
    let (xd, wd) = (&x.shape.0, &w.shape.0);
    if xd[3] != wd[2] {
        return Err(format!(
            "conv2d: input channels differ: the input {x} has {} channels, the filter {w} expects {}",
            xd[3], wd[2]
        ));
    }
    let pad_h = pads[0].saturating_add(pads[1]);
    let pad_w = pads[2].saturating_add(pads[3]);
    let h = window_out("conv2d", x, xd[1], wd[0], strides[0], pad_h)?;
    let ww = window_out("conv2d", x, xd[2], wd[1], strides[1], pad_w)?;
    Ok(TensorType::new(x.dtype, vec![xd[0], h, ww, wd[3]]))
}

/// Output length of a sliding window: `(n + pad - k) / stride + 1`.
pub(super) fn window_out(
    name: &str,
    x: &TensorType,
    n: usize,
    k: usize,
    stride: usize,
    pad: usize,
) -> Result<usize, String> {
    if stride == 0 || k == 0 {
        return Err(format!("{name}: window size and strides must be positive"));
    }
    let padded = n
        .checked_add(pad)
        .ok_or_else(|| format!("tensor too large: {x}"))?;
    if padded < k {
        return Err(format!(
            "{name}: the window ({k}) is larger than the padded input ({padded}) of {x}"
        ));
    }
    Ok((padded - k) / stride + 1)
}

/// TF's SAME padding along one axis: `[before, after]` for input length `n`,
/// window `k` and `stride` (out = ceil(n / stride)).
pub fn same_pads(n: usize, k: usize, stride: usize) -> [usize; 2] {
    let stride = stride.max(1);
    let out = n.div_ceil(stride);
    let needed = (out.saturating_sub(1))
        .saturating_mul(stride)
        .saturating_add(k);
    let total = needed.saturating_sub(n);
    [total / 2, total - total / 2]
}
