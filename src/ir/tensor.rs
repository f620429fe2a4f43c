//! Runtime tensor values: one ndarray per dtype.

use super::types::{DType, Shape, TensorType};
use ndarray::ArrayD;

/// Applies `$body` to the array inside `$tensor`, whatever its dtype, giving a tensor.
macro_rules! each_dtype {
    ($tensor:expr, $a:ident => $body:expr) => {
        match $tensor {
            $crate::ir::Tensor::F32($a) => $crate::ir::Tensor::F32($body),
            $crate::ir::Tensor::F64($a) => $crate::ir::Tensor::F64($body),
            $crate::ir::Tensor::I32($a) => $crate::ir::Tensor::I32($body),
            $crate::ir::Tensor::Bool($a) => $crate::ir::Tensor::Bool($body),
        }
    };
}
pub(crate) use each_dtype;

#[derive(Clone, Debug, PartialEq)]
pub enum Tensor {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    I32(ArrayD<i32>),
    Bool(ArrayD<bool>),
}

impl Tensor {
    /// The same values in row-major contiguous layout (a copy only when needed).
    pub fn into_standard_layout(self) -> Tensor {
        fn fix<T: Clone>(a: ndarray::ArrayD<T>) -> ndarray::ArrayD<T> {
            if a.is_standard_layout() {
                a
            } else {
                a.as_standard_layout().into_owned()
            }
        }
        each_dtype!(self, a => fix(a))
    }

    pub fn dtype(&self) -> DType {
        match self {
            Tensor::F32(_) => DType::F32,
            Tensor::F64(_) => DType::F64,
            Tensor::I32(_) => DType::I32,
            Tensor::Bool(_) => DType::Bool,
        }
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            Tensor::F32(a) => a.shape(),
            Tensor::F64(a) => a.shape(),
            Tensor::I32(a) => a.shape(),
            Tensor::Bool(a) => a.shape(),
        }
    }

    pub fn ty(&self) -> TensorType {
        TensorType {
            dtype: self.dtype(),
            shape: Shape(self.shape().to_vec()),
        }
    }

    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A tensor of `ty` with every element equal to `value` (converted to the dtype;
    /// nonzero is `true` for bool).
    pub fn full(ty: &TensorType, value: f64) -> Tensor {
        let dims = ndarray::IxDyn(ty.shape.dims());
        match ty.dtype {
            DType::F32 => Tensor::F32(ArrayD::from_elem(dims, value as f32)),
            DType::F64 => Tensor::F64(ArrayD::from_elem(dims, value)),
            DType::I32 => Tensor::I32(ArrayD::from_elem(dims, value as i32)),
            DType::Bool => Tensor::Bool(ArrayD::from_elem(dims, value != 0.0)),
        }
    }

    /// A scalar of `dtype`.
    pub fn scalar(dtype: DType, value: f64) -> Tensor {
        Tensor::full(&TensorType::scalar(dtype), value)
    }

    /// Every element as f64, in logical (row-major) order.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
            Tensor::F64(a) => a.iter().copied().collect(),
            Tensor::I32(a) => a.iter().map(|&v| v as f64).collect(),
            Tensor::Bool(a) => a.iter().map(|&v| if v { 1.0 } else { 0.0 }).collect(),
        }
    }

    /// Builds a tensor of `ty` from row-major f64 values (converted to the dtype).
    /// Returns `None` when the count does not match the shape.
    pub fn from_f64_vec(ty: &TensorType, values: Vec<f64>) -> Option<Tensor> {
        let dims = ndarray::IxDyn(ty.shape.dims());
        Some(match ty.dtype {
            DType::F32 => Tensor::F32(
                ArrayD::from_shape_vec(dims, values.iter().map(|&v| v as f32).collect()).ok()?,
            ),
            DType::F64 => Tensor::F64(ArrayD::from_shape_vec(dims, values).ok()?),
            DType::I32 => Tensor::I32(
                ArrayD::from_shape_vec(dims, values.iter().map(|&v| v as i32).collect()).ok()?,
            ),
            DType::Bool => Tensor::Bool(
                ArrayD::from_shape_vec(dims, values.iter().map(|&v| v != 0.0).collect()).ok()?,
            ),
        })
    }
}
