//! Evaluating one op on constant inputs, for constant folding.
//!
//! The optimiser may not call a backend (stage order: ir → autodiff → opt →
//! backend), so each op goes through the code the interpreter runs for it:
//! the shared kernels in `ir::kernels` (movement, reductions, `argmax`,
//! `matmul`, `conv2d`, pooling, softmaxes, losses) and, elementwise, the scalar
//! table `ir::scalar`. A unit test checks every supported op against the
//! interpreter's `eval_pure` bit for bit.
//!
//! Supported: unary, binary (broadcasting), `where`, `cast`, `stop_gradient`,
//! `broadcast`, `reshape`, `transpose`, `sum/mean/max/min`, `argmax`, `concat`,
//! `pad`, `x[i]` with `i` in range, `one_hot`, `max_pool2d`, `softmax`,
//! `log_softmax`, `softmax_cross_entropy`, `mean_squared_error`, `matmul` and
//! `conv2d`.

use crate::kernels::elem::{dispatch, Elem};
use crate::kernels::{self, movement};
use crate::ir::scalar;
use crate::ir::{BinaryOp, Op, Tensor, TensorType, UnaryOp};
use ndarray::{ArrayD, Axis, IxDyn, Zip};

/// [`dispatch`] for the float dtypes only (`None` otherwise).
macro_rules! float {
    ($dtype:expr, $t:ident => $body:expr) => {
        $crate::kernels::elem::dispatch_float!($dtype, $t => $body, _ => return None)
    };
}

mod nn;
mod reduce;
use nn::{conv2d, matmul, max_pool2d, mean_squared_error, softmax, softmax_cross_entropy};
use reduce::reduce;

/// The value of `op` on `inputs`, of type `ty` (the node's), or `None` when the
/// op is not folded here or the inputs do not fit it.
pub fn evaluate(op: &Op, inputs: &[&Tensor], ty: &TensorType) -> Option<Tensor> {
    let out = match (op, inputs) {
        (Op::Unary(u), [x]) => unary(*u, x)?,
        (Op::Binary(b), [x, y]) => binary(*b, x, y, ty)?,
        (Op::Select, [c, a, b]) => select(c, a, b, ty)?,
        (Op::Cast(d), [x]) => dispatch!(*d, T => cast::<T>(x)),
        (Op::StopGradient, [x]) => Tensor::clone(x),
        (Op::Broadcast, [x]) => dispatch!(x.dtype(), T => broadcast::<T>(x, ty)?),
        (Op::Reshape, [x]) => dispatch!(x.dtype(), T => reshape::<T>(x, ty)?),
        (Op::Transpose { perm }, [x]) => dispatch!(x.dtype(), T => transpose::<T>(x, perm)?),
        (Op::Reduce { op, axes, keepdims }, [x]) => reduce(*op, axes, *keepdims, x)?,
        (Op::ArgMax { axis }, [x]) => dispatch!(x.dtype(), T => argmax::<T>(x, *axis)?),
        (Op::Concat { axis }, [first, ..]) => {
            dispatch!(first.dtype(), T => concat::<T>(inputs, *axis)?)
        }
        (Op::Pad { pads, value }, [x]) => dispatch!(x.dtype(), T => pad::<T>(x, pads, *value)?),
        (Op::Index, [x, i]) => dispatch!(x.dtype(), T => index::<T>(x, i)?),
        (Op::OneHot { depth }, [labels]) => one_hot(labels, *depth, ty)?,
        (Op::MaxPool2d { size, strides }, [x]) => {
            dispatch!(x.dtype(), T => max_pool2d::<T>(x, *size, *strides)?)
        }
        (Op::Softmax { axis }, [x]) => float!(x.dtype(), T => softmax::<T>(x, *axis, false)?),
        (Op::LogSoftmax { axis }, [x]) => float!(x.dtype(), T => softmax::<T>(x, *axis, true)?),
        (Op::SoftmaxCrossEntropy, [logits, labels]) => {
            float!(logits.dtype(), T => softmax_cross_entropy::<T>(logits, labels)?)
        }
        (Op::MeanSquaredError, [pred, target]) => {
            float!(pred.dtype(), T => mean_squared_error::<T>(pred, target)?)
        }
        (Op::MatMul, [a, b]) => matmul(a, b)?,
        (Op::Conv2d { strides, pads }, [x, w]) => conv2d(x, w, *strides, *pads)?,
        _ => return None,
    };
    (out.ty() == *ty).then_some(out)
}

fn unary(op: UnaryOp, x: &Tensor) -> Option<Tensor> {
    if !scalar::unary_supported(op, x.dtype()) {
        return None;
    }
    fn go<T: Elem>(op: UnaryOp, x: &Tensor) -> Option<Tensor> {
        Some(T::wrap(T::array(x)?.mapv(|v| T::unary(op, v))))
    }
    dispatch!(x.dtype(), T => go::<T>(op, x))
}

fn binary(op: BinaryOp, x: &Tensor, y: &Tensor, ty: &TensorType) -> Option<Tensor> {
    if !scalar::binary_supported(op, x.dtype()) {
        return None;
    }
    fn go<T: Elem>(op: BinaryOp, x: &Tensor, y: &Tensor, ty: &TensorType) -> Option<Tensor> {
        let shape = IxDyn(ty.shape.dims());
        let a = T::array(x)?.broadcast(shape.clone())?;
        let b = T::array(y)?.broadcast(shape)?;
        let zip = Zip::from(&a).and(&b);
        Some(if op.is_comparison() || op.is_logical() {
            Tensor::Bool(zip.map_collect(|&p, &q| T::compare(op, p, q)))
        } else {
            T::wrap(zip.map_collect(|&p, &q| T::binary(op, p, q)))
        })
    }
    dispatch!(x.dtype(), T => go::<T>(op, x, y, ty))
}

fn select(c: &Tensor, a: &Tensor, b: &Tensor, ty: &TensorType) -> Option<Tensor> {
    fn go<T: Elem>(c: &Tensor, a: &Tensor, b: &Tensor, ty: &TensorType) -> Option<Tensor> {
        let shape = IxDyn(ty.shape.dims());
        let c = bool::array(c)?.broadcast(shape.clone())?;
        let a = T::array(a)?.broadcast(shape.clone())?;
        let b = T::array(b)?.broadcast(shape)?;
        Some(T::wrap(
            Zip::from(&c)
                .and(&a)
                .and(&b)
                .map_collect(|&c, &x, &y| if c { x } else { y }),
        ))
    }
    dispatch!(a.dtype(), T => go::<T>(c, a, b, ty))
}

fn cast<T: Elem>(x: &Tensor) -> Tensor {
    T::wrap(match x {
        Tensor::F32(a) => a.mapv(scalar::cast::<f32, T>),
        Tensor::F64(a) => a.mapv(scalar::cast::<f64, T>),
        Tensor::I32(a) => a.mapv(scalar::cast::<i32, T>),
        Tensor::Bool(a) => a.mapv(scalar::cast::<bool, T>),
    })
}

fn broadcast<T: Elem>(x: &Tensor, ty: &TensorType) -> Option<Tensor> {
    let a = T::array(x)?;
    Some(T::wrap(a.broadcast(IxDyn(ty.shape.dims()))?.to_owned()))
}

fn reshape<T: Elem>(x: &Tensor, ty: &TensorType) -> Option<Tensor> {
    movement::reshape(T::array(x)?, ty.shape.dims())
        .ok()
        .map(T::wrap)
}

fn transpose<T: Elem>(x: &Tensor, perm: &[usize]) -> Option<Tensor> {
    movement::transpose(T::array(x)?, perm).ok().map(T::wrap)
}

/// `argmax` through the interpreter's kernel (`ir::kernels::reduce`).
fn argmax<T: Elem + PartialOrd>(x: &Tensor, axis: usize) -> Option<Tensor> {
    kernels::reduce::argmax(T::array(x)?.view(), axis)
        .ok()
        .map(Tensor::I32)
}

fn concat<T: Elem>(inputs: &[&Tensor], axis: usize) -> Option<Tensor> {
    let arrays: Vec<&ArrayD<T>> = inputs.iter().map(|t| T::array(t)).collect::<Option<_>>()?;
    movement::concat(&arrays, axis).ok().map(T::wrap)
}

fn pad<T: Elem>(x: &Tensor, pads: &[[usize; 2]], value: f64) -> Option<Tensor> {
    movement::pad(T::array(x)?, pads, value).ok().map(T::wrap)
}

/// `x[i]` for an `i` in range (negative counts from the end); out of range is a
/// run-time error, so it is not folded.
fn index<T: Elem>(x: &Tensor, i: &Tensor) -> Option<Tensor> {
    let a = T::array(x)?;
    let i = match i {
        Tensor::I32(i) if i.ndim() == 0 => *i.iter().next()?,
        _ => return None,
    };
    let row = movement::resolve_index(i, *a.shape().first()?).ok()?;
    Some(T::wrap(a.index_axis(Axis(0), row).to_owned()))
}

/// A label outside `0..depth` gives a row of zeros.
fn one_hot(labels: &Tensor, depth: usize, ty: &TensorType) -> Option<Tensor> {
    let Tensor::I32(labels) = labels else {
        return None;
    };
    dispatch!(ty.dtype, T => movement::one_hot::<T>(labels, depth).ok().map(T::wrap))
}

/// The one value every element of `t` has (compared bit for bit, so `-0.0` and
/// `0.0` differ and a NaN matches the same NaN), as an exact `f64`; `None` for an
/// empty tensor or differing elements.
pub fn splat_value(t: &Tensor) -> Option<f64> {
    fn go<T: Elem>(a: &ArrayD<T>) -> Option<f64> {
        let first = a.iter().next()?.to_f64();
        a.iter()
            .all(|v| v.to_f64().to_bits() == first.to_bits())
            .then_some(first)
    }
    match t {
        Tensor::F32(a) => go(a),
        Tensor::F64(a) => go(a),
        Tensor::I32(a) => go(a),
        Tensor::Bool(a) => go(a),
    }
}

/// The first `n` elements of `t` as exact `f64`s, in row-major order.
pub fn leading_values(t: &Tensor, n: usize) -> Vec<f64> {
    fn go<T: Elem>(a: &ArrayD<T>, n: usize) -> Vec<f64> {
        a.iter().take(n).map(|v| v.to_f64()).collect()
    }
    match t {
        Tensor::F32(a) => go(a, n),
        Tensor::F64(a) => go(a, n),
        Tensor::I32(a) => go(a, n),
        Tensor::Bool(a) => go(a, n),
    }
}

/// Whether two constants are equal element for element, bit for bit (so folding
/// and CSE never confuse `-0.0` with `0.0`, and equal NaNs match).
pub fn same_bits(a: &Tensor, b: &Tensor) -> bool {
    match (a, b) {
        (Tensor::F32(x), Tensor::F32(y)) => {
            x.shape() == y.shape() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (Tensor::F64(x), Tensor::F64(y)) => {
            x.shape() == y.shape() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        (Tensor::I32(x), Tensor::I32(y)) => x == y,
        (Tensor::Bool(x), Tensor::Bool(y)) => x == y,
        _ => false,
    }
}
