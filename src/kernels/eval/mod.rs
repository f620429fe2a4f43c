//! One evaluator of every pure op on concrete tensors, [`eval_pure`]: constant
//! folding, the interpreter and the JIT's fallback all call it, so a folded
//! constant has the bits a backend computes. Every result is checked against the
//! node's type, and an input shape a kernel cannot handle is an internal error,
//! never a panic.

mod conv;
mod elementwise;
mod gather;
pub mod grad;
mod linalg;
mod loss;
mod movement;
mod nn;
mod pool;
pub(crate) mod random;
mod reduce;

use crate::diag::Diag;
use crate::ir::{DType, Node, Op, Tensor};
use ndarray::ArrayD;

/// Evaluates one op that has no state and no regions (everything but leaves,
/// `Cond`, `Fold`, `Assign` and `Group`) on input values, for callers such as
/// constant folding. The result has the node's type, in standard layout.
pub fn eval_pure(node: &Node, inputs: &[&Tensor]) -> Result<Tensor, Diag> {
    let value = match &node.op {
        Op::Unary(op) => elementwise::unary(node, *op, inputs)?,
        Op::Binary(op) => elementwise::binary(node, *op, inputs)?,
        Op::Select => elementwise::select(node, inputs)?,
        Op::Cast(dtype) => elementwise::cast(node, *dtype, inputs)?,
        Op::StopGradient => Tensor::clone(arg(node, inputs, 0)?),
        Op::Broadcast => elementwise::broadcast(node, inputs)?,
        Op::Reduce { op, axes, keepdims } => reduce::reduce(node, *op, axes, *keepdims, inputs)?,
        Op::ArgMax { axis } => reduce::argmax(node, *axis, inputs)?,
        Op::Reshape => movement::reshape(node, inputs)?,
        Op::Transpose { perm } => movement::transpose(node, perm, inputs)?,
        Op::Concat { axis } => movement::concat(node, *axis, inputs)?,
        Op::Index => movement::index(node, inputs)?,
        Op::Pad { pads, value } => gather::pad(node, pads, *value, inputs)?,
        Op::OneHot { depth } => movement::one_hot(node, *depth, inputs)?,
        Op::StridedSlice {
            starts,
            sizes,
            steps,
        } => gather::strided_slice(node, starts, sizes, steps, inputs)?,
        Op::Take { axis } => gather::take(node, *axis, inputs)?,
        Op::MirrorPad { pads, symmetric } => gather::mirror_pad(node, pads, *symmetric, inputs)?,
        Op::MatMul => linalg::matmul(node, inputs)?,
        Op::Conv2d { strides, pads } => {
            conv::eval(node, conv::Which::Forward, *strides, *pads, inputs)?
        }
        Op::MaxPool2d {
            size,
            strides,
            pads,
        } => pool::eval(node, pool::Which::Max, (*size, *strides, *pads), inputs)?,
        Op::AvgPool2d {
            size,
            strides,
            pads,
        } => pool::eval(node, pool::Which::Avg, (*size, *strides, *pads), inputs)?,
        Op::Softmax { axis } => nn::softmax(node, *axis, false, inputs)?,
        Op::LogSoftmax { axis } => nn::softmax(node, *axis, true, inputs)?,
        Op::SoftmaxCrossEntropy => nn::softmax_cross_entropy(node, inputs)?,
        Op::MeanSquaredError => nn::mean_squared_error(node, inputs)?,
        Op::SparseSoftmaxCrossEntropy => loss::sparse_softmax_cross_entropy(node, inputs)?,
        Op::SigmoidCrossEntropy => loss::sigmoid_cross_entropy(node, inputs)?,
        Op::Grad(_) => grad::eval(node, inputs)?,
        Op::Random { kind, seed } => random::eval(node, *kind, *seed, inputs)?,
        // Not pure (it talks to the other processes); here so that both
        // backends run it. Constant folding skips it.
        Op::Allreduce { op } => {
            let mut value = Tensor::clone(arg(node, inputs, 0)?).into_standard_layout();
            crate::kernels::collective::allreduce_tensor(&mut value, *op)
                .map_err(|message| internal(node, message))?;
            value
        }
        Op::Placeholder { .. }
        | Op::Variable { .. }
        | Op::Const(_)
        | Op::Param(_)
        | Op::Step
        | Op::Iteration
        | Op::Cond { .. }
        | Op::Fold { .. }
        | Op::Scan { .. }
        | Op::Assign { .. }
        | Op::Group => {
            return Err(internal(node, "not a pure op; it needs a step to run in"));
        }
    };
    let value = value.into_standard_layout();
    check_type(node, &value)?;
    Ok(value)
}

/// An internal error of the interpreter at `node`: a graph the builder should not
/// have produced, or a value that disagrees with the node's type.
pub(crate) fn internal(node: &Node, message: impl std::fmt::Display) -> Diag {
    Diag::internal(
        "interpreter",
        format!("{}: {message}", node.op.name()),
        Some(node.span),
    )
}

/// Checks that `value` has exactly the node's dtype and shape.
pub(crate) fn check_type(node: &Node, value: &Tensor) -> Result<(), Diag> {
    if value.dtype() != node.ty.dtype || value.shape() != node.ty.shape.dims() {
        return Err(internal(
            node,
            format!(
                "computed a value of type {} but the node's type is {}",
                value.ty(),
                node.ty
            ),
        ));
    }
    Ok(())
}

/// Input `k` of the op, or an internal error when the node has too few inputs.
pub(crate) fn arg<'t>(node: &Node, inputs: &[&'t Tensor], k: usize) -> Result<&'t Tensor, Diag> {
    inputs.get(k).copied().ok_or_else(|| {
        internal(
            node,
            format!("expected at least {} inputs, got {}", k + 1, inputs.len()),
        )
    })
}

/// Checks the number of inputs.
pub(crate) fn expect_inputs(node: &Node, inputs: &[&Tensor], count: usize) -> Result<(), Diag> {
    if inputs.len() != count {
        return Err(internal(
            node,
            format!("expected {count} inputs, got {}", inputs.len()),
        ));
    }
    Ok(())
}

pub(crate) use crate::kernels::elem::{dispatch, Elem};

/// Input `k` as an array of `T`, or an internal error naming both dtypes.
pub(crate) fn typed<'t, T: Elem>(
    node: &Node,
    inputs: &[&'t Tensor],
    k: usize,
) -> Result<&'t ArrayD<T>, Diag> {
    let tensor = arg(node, inputs, k)?;
    T::array(tensor).ok_or_else(|| {
        internal(
            node,
            format!("input {k} is {} but {} was expected", tensor.ty(), T::DTYPE),
        )
    })
}

/// Input `k` as row-major values, read in place when it is (copying through
/// ndarray's dynamic-rank iterator can cost more than a kernel), with its dims.
pub(crate) fn row_major<'t, T: Elem>(
    node: &Node,
    inputs: &[&'t Tensor],
    k: usize,
) -> Result<(std::borrow::Cow<'t, [T]>, &'t [usize]), Diag> {
    let a = typed::<T>(node, inputs, k)?;
    let values = match a.as_slice() {
        Some(values) => std::borrow::Cow::Borrowed(values),
        None => std::borrow::Cow::Owned(a.as_standard_layout().iter().copied().collect()),
    };
    Ok((values, a.shape()))
}

/// [`dispatch`] for ops defined only on floats; other dtypes are an internal error.
macro_rules! dispatch_float {
    ($node:expr, $dtype:expr, $t:ident => $body:expr) => {
        $crate::kernels::elem::dispatch_float!($dtype, $t => $body, other => {
            return Err($crate::kernels::eval::internal(
                $node,
                format!("not defined on {other}"),
            ))
        })
    };
}
pub(crate) use dispatch_float;

/// The dtype of input 0 (most ops are typed by their first input).
pub(crate) fn first_dtype(node: &Node, inputs: &[&Tensor]) -> Result<DType, Diag> {
    Ok(arg(node, inputs, 0)?.dtype())
}
