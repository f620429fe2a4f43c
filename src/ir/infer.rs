//! Type and shape inference, one rule per op: [`infer`] gives an op's output
//! type from its inputs' types, or a message naming the op, the dtypes and the
//! shapes (the builder attaches the span). `Reshape` and `Broadcast` take their
//! output shape from the node (`infer_reshape`, `infer_broadcast`); leaves are
//! typed by their declaration.

use super::op::{BinaryOp, Op, ReduceOp, UnaryOp};
use super::types::{DType, Shape, TensorType, MAX_TENSOR_BYTES};

/// The output type of `op` applied to inputs of these types.
pub fn infer(op: &Op, inputs: &[&TensorType]) -> Result<TensorType, String> {
    let ty = infer_unchecked(op, inputs)?;
    check_size(&ty)?;
    Ok(ty)
}

/// `reshape(x, spec)`: `spec` may hold one `-1`, inferred from the element count.
pub fn infer_reshape(x: &TensorType, spec: &[i64]) -> Result<TensorType, String> {
    let numel = checked_numel(x)?;
    let mut dims = Vec::with_capacity(spec.len());
    let mut unknown = None;
    let mut known: usize = 1;
    for (i, &d) in spec.iter().enumerate() {
        if d == -1 {
            if unknown.is_some() {
                return Err(format!(
                    "reshape: only one -1 is allowed, in {}",
                    list(spec)
                ));
            }
            unknown = Some(i);
            dims.push(0);
        } else if d < 0 {
            return Err(format!("reshape: negative dimension {d} in {}", list(spec)));
        } else {
            let d = usize::try_from(d).map_err(|_| too_large_spec(x.dtype, spec))?;
            known = known
                .checked_mul(d)
                .ok_or_else(|| too_large_spec(x.dtype, spec))?;
            dims.push(d);
        }
    }
    if let Some(i) = unknown {
        if known == 0 || numel % known != 0 {
            return Err(format!(
                "reshape: cannot reshape {x} ({numel} elements) into {}",
                list(spec)
            ));
        }
        dims[i] = numel / known;
    } else if known != numel {
        return Err(format!(
            "reshape: element count differs: {x} has {numel} elements, {} has {known}",
            list(spec)
        ));
    }
    let ty = TensorType::new(x.dtype, dims);
    check_size(&ty)?;
    Ok(ty)
}

/// Broadcasting `x` to `target` (NumPy rules, `x` may only grow).
pub fn infer_broadcast(x: &TensorType, target: &Shape) -> Result<TensorType, String> {
    let out = broadcast_shapes(&x.shape, target)
        .filter(|s| s == target)
        .ok_or_else(|| format!("broadcast: cannot broadcast {x} to {target}"))?;
    let ty = TensorType {
        dtype: x.dtype,
        shape: out,
    };
    check_size(&ty)?;
    Ok(ty)
}

/// "tensor too large" unless the element count and byte size are within limits.
pub fn check_size(ty: &TensorType) -> Result<(), String> {
    checked_numel(ty).map(|_| ())
}

fn checked_numel(ty: &TensorType) -> Result<usize, String> {
    ty.shape
        .checked_numel()
        .filter(|n| {
            n.checked_mul(ty.dtype.size_bytes())
                .is_some_and(|b| b <= MAX_TENSOR_BYTES)
        })
        .ok_or_else(|| format!("tensor too large: {ty} (the limit is {MAX_TENSOR_BYTES} bytes)"))
}

fn too_large_spec(dtype: DType, spec: &[i64]) -> String {
    format!("tensor too large: {dtype}{}", list(spec))
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// NumPy broadcasting of two shapes, `None` when they do not broadcast.
pub fn broadcast_shapes(a: &Shape, b: &Shape) -> Option<Shape> {
    broadcast_dims(&a.0, &b.0).map(Shape)
}

/// [`broadcast_shapes`] of dimension lists.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    // Axis `k` of the result is axis `k - (rank - len)` of a shape, 1 before it.
    let dim = |s: &[usize], k: usize| (k + s.len()).checked_sub(rank).map_or(1, |i| s[i]);
    (0..rank)
        .map(|k| match (dim(a, k), dim(b, k)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

pub fn unary_name(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Neg => "-",
        UnaryOp::Not => "!",
        UnaryOp::Exp => "exp",
        UnaryOp::Log => "log",
        UnaryOp::Sqrt => "sqrt",
        UnaryOp::Abs => "abs",
        UnaryOp::Tanh => "tanh",
        UnaryOp::Sigmoid => "sigmoid",
        UnaryOp::Relu => "relu",
        UnaryOp::Sin => "sin",
        UnaryOp::Cos => "cos",
    }
}

pub fn binary_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Pow => "**",
        BinaryOp::Maximum => "maximum",
        BinaryOp::Minimum => "minimum",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::And => "&&",
        BinaryOp::Or => "||",
    }
}

fn reduce_name(op: ReduceOp) -> &'static str {
    match op {
        ReduceOp::Sum => "sum",
        ReduceOp::Mean => "mean",
        ReduceOp::Max => "max",
        ReduceOp::Min => "min",
    }
}

fn arity(name: &str, inputs: &[&TensorType], n: usize) -> Result<(), String> {
    if inputs.len() == n {
        Ok(())
    } else {
        Err(format!("{name}: expects {n} inputs, got {}", inputs.len()))
    }
}

fn need_float(name: &str, x: &TensorType) -> Result<(), String> {
    if x.dtype.is_float() {
        Ok(())
    } else {
        Err(format!(
            "{name}: expects a float tensor (f32 or f64), got {x}; use cast(x, f32)"
        ))
    }
}

fn need_numeric(name: &str, x: &TensorType) -> Result<(), String> {
    if x.dtype.is_numeric() {
        Ok(())
    } else {
        Err(format!("{name}: expects a numeric tensor, got {x}"))
    }
}

fn same_dtype(name: &str, a: &TensorType, b: &TensorType) -> Result<(), String> {
    if a.dtype == b.dtype {
        Ok(())
    } else {
        Err(format!(
            "{name}: dtypes differ: {a} and {b}; tdsl never converts implicitly, use cast(x, {})",
            b.dtype
        ))
    }
}

fn need_axis(name: &str, x: &TensorType, axis: usize) -> Result<(), String> {
    if axis < x.shape.rank() {
        Ok(())
    } else {
        Err(format!(
            "{name}: axis {axis} is out of range for {x} (rank {})",
            x.shape.rank()
        ))
    }
}

fn infer_unchecked(op: &Op, inputs: &[&TensorType]) -> Result<TensorType, String> {
    let name = op.name();
    match op {
        Op::Placeholder { .. } | Op::Variable { .. } | Op::Param(_) => Err(format!(
            "{name}: a leaf is typed by its declaration, not inferred"
        )),
        Op::Const(t) => {
            arity(&name, inputs, 0)?;
            Ok(t.ty())
        }
        Op::Step | Op::Iteration => {
            arity(&name, inputs, 0)?;
            Ok(TensorType::new(DType::I32, vec![]))
        }
        Op::Random { kind, .. } => random::infer_random(*kind, inputs),
        Op::Unary(u) => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            let n = unary_name(*u);
            match u {
                UnaryOp::Not => {
                    if x.dtype != DType::Bool {
                        return Err(format!("!: expects bool, got {x}"));
                    }
                }
                UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Relu => need_numeric(n, x)?,
                _ => need_float(n, x)?,
            }
            Ok(x.clone())
        }
        Op::Binary(b) => {
            arity(&name, inputs, 2)?;
            binary(*b, inputs[0], inputs[1])
        }
        Op::Select => {
            arity(&name, inputs, 3)?;
            let (c, a, b) = (inputs[0], inputs[1], inputs[2]);
            if c.dtype != DType::Bool {
                return Err(format!("where: the condition must be bool, got {c}"));
            }
            same_dtype("where", a, b)?;
            let ab = broadcast_shapes(&a.shape, &b.shape)
                .ok_or_else(|| format!("where: cannot broadcast {a} and {b}"))?;
            let shape = broadcast_shapes(&c.shape, &ab).ok_or_else(|| {
                format!("where: cannot broadcast the condition {c} with {a} and {b}")
            })?;
            Ok(TensorType {
                dtype: a.dtype,
                shape,
            })
        }
        Op::Cast(d) => {
            arity(&name, inputs, 1)?;
            Ok(TensorType {
                dtype: *d,
                shape: inputs[0].shape.clone(),
            })
        }
        Op::StopGradient => {
            arity(&name, inputs, 1)?;
            Ok(inputs[0].clone())
        }
        Op::Allreduce { .. } => {
            arity(&name, inputs, 1)?;
            need_float("allreduce", inputs[0])?;
            Ok(inputs[0].clone())
        }
        Op::Broadcast | Op::Reshape => Err(format!(
            "{name}: the output shape comes from the node; use infer_{name}"
        )),
        Op::Reduce { op, axes, keepdims } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            let n = reduce_name(*op);
            match op {
                ReduceOp::Mean => need_float(n, x)?,
                _ => need_numeric(n, x)?,
            }
            for (i, &a) in axes.iter().enumerate() {
                need_axis(n, x, a)?;
                if i > 0 && axes[i - 1] >= a {
                    return Err(format!("{n}: axes must be distinct, got {}", list(axes)));
                }
            }
            let mut dims = Vec::new();
            for (i, &d) in x.shape.dims().iter().enumerate() {
                if axes.contains(&i) {
                    if *keepdims {
                        dims.push(1);
                    }
                } else {
                    dims.push(d);
                }
            }
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::ArgMax { axis } => {
            arity(&name, inputs, 1)?;
            let x = inputs[0];
            need_numeric("argmax", x)?;
            need_axis("argmax", x, *axis)?;
            if x.shape.0[*axis] == 0 {
                return Err(format!("argmax: axis {axis} of {x} is empty"));
            }
            let mut dims = x.shape.0.clone();
            dims.remove(*axis);
            Ok(TensorType::new(DType::I32, dims))
        }
        Op::StridedSlice { .. } | Op::Take { .. } | Op::MirrorPad { .. } => {
            gather::infer_gather(op, inputs)
        }
        _ => nn::infer_nn(op, inputs).unwrap_or_else(|| layout::infer_rest(op, inputs)),
    }
}

fn binary(op: BinaryOp, a: &TensorType, b: &TensorType) -> Result<TensorType, String> {
    let n = binary_name(op);
    same_dtype(n, a, b)?;
    let dtype = a.dtype;
    let out_dtype = if op.is_logical() {
        if dtype != DType::Bool {
            return Err(format!("{n}: expects bool operands, got {a} and {b}"));
        }
        DType::Bool
    } else if op.is_comparison() {
        if dtype == DType::Bool && !matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
            return Err(format!("{n}: cannot order bool values: {a} and {b}"));
        }
        DType::Bool
    } else {
        if dtype == DType::Bool {
            return Err(format!("{n}: expects numeric operands, got {a} and {b}"));
        }
        dtype
    };
    let shape = broadcast_shapes(&a.shape, &b.shape)
        .ok_or_else(|| format!("{n}: cannot broadcast {a} and {b}"))?;
    Ok(TensorType {
        dtype: out_dtype,
        shape,
    })
}

mod gather;
mod layout;
mod nn;
pub use layout::same_pads;
mod random;
pub use nn::check_labels;
pub use random::{need_step, need_word};

#[cfg(test)]
mod tests;
