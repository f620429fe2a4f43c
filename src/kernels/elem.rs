//! `Elem`, an element type with its `Tensor` variant, and `dispatch!`, which
//! runs code written once for every dtype: one definition for the interpreter
//! and constant folding.

use crate::ir::scalar::Scalar;
use crate::ir::Tensor;
use ndarray::ArrayD;

/// An element type together with its `Tensor` variant.
pub trait Elem: Scalar + Default + Send + Sync {
    fn array(tensor: &Tensor) -> Option<&ArrayD<Self>>;
    fn wrap(array: ArrayD<Self>) -> Tensor;
}

macro_rules! elem {
    ($t:ty, $variant:ident) => {
        impl Elem for $t {
            fn array(tensor: &Tensor) -> Option<&ArrayD<$t>> {
                match tensor {
                    Tensor::$variant(a) => Some(a),
                    _ => None,
                }
            }

            fn wrap(array: ArrayD<$t>) -> Tensor {
                Tensor::$variant(array)
            }
        }
    };
}

elem!(f32, F32);
elem!(f64, F64);
elem!(i32, I32);
elem!(bool, Bool);

/// Runs `$body` with the type alias `$t` bound to the element type of `$dtype`.
macro_rules! dispatch {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::ir::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::ir::DType::F64 => {
                type $t = f64;
                $body
            }
            $crate::ir::DType::I32 => {
                type $t = i32;
                $body
            }
            $crate::ir::DType::Bool => {
                type $t = bool;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

/// Like [`dispatch`] for the float dtypes; any other dtype, matched by the
/// pattern `$other`, gives `$fallback`.
macro_rules! dispatch_float {
    ($dtype:expr, $t:ident => $body:expr, $other:pat => $fallback:expr) => {
        match $dtype {
            $crate::ir::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::ir::DType::F64 => {
                type $t = f64;
                $body
            }
            $other => $fallback,
        }
    };
}
pub(crate) use dispatch_float;
