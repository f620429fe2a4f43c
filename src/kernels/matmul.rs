//! `matmul` on tensors (2-D and batched, broadcast leading axes): the one driver
//! the interpreter and constant folding call, floats on the shared GEMM
//! ([`super::gemm`]), `i32` a wrapping row-by-column loop.

use super::gemm::matmul_into;
use crate::ir::infer::broadcast_shapes;
use crate::ir::Shape;
use ndarray::{Array3, ArrayD, ArrayView2, ArrayViewD, ArrayViewMut2, Axis, Dimension, Ix2, IxDyn};

/// An element type with a matrix product.
pub trait Product: Copy + Default + 'static {
    /// `c = a @ b` for one matrix each; the caller checked the shapes.
    fn gemm(a: ArrayView2<Self>, b: ArrayView2<Self>, c: ArrayViewMut2<Self>);
}

macro_rules! float_product {
    ($t:ty) => {
        impl Product for $t {
            fn gemm(a: ArrayView2<$t>, b: ArrayView2<$t>, c: ArrayViewMut2<$t>) {
                // The caller checked the shapes, so this cannot refuse.
                let agreed = matmul_into(a, b, c);
                debug_assert!(agreed, "matmul shapes were checked by the caller");
            }
        }
    };
}

float_product!(f32);
float_product!(f64);

impl Product for i32 {
    fn gemm(a: ArrayView2<i32>, b: ArrayView2<i32>, mut c: ArrayViewMut2<i32>) {
        for ((i, j), out) in c.indexed_iter_mut() {
            *out = a
                .row(i)
                .iter()
                .zip(b.column(j))
                .fold(0i32, |acc, (&x, &y)| acc.wrapping_add(x.wrapping_mul(y)));
        }
    }
}

/// `a @ b` with `a: [..., m, k]`, `b: [..., k, n]`; the leading axes broadcast
/// (NumPy rules). An error names the shapes that do not fit.
pub fn matmul<T: Product>(a: ArrayViewD<T>, b: ArrayViewD<T>) -> Result<ArrayD<T>, String> {
    let (ra, rb) = (a.ndim(), b.ndim());
    if ra < 2 || rb < 2 || a.shape()[ra - 1] != b.shape()[rb - 2] {
        return Err(format!(
            "cannot multiply {:?} by {:?}",
            a.shape(),
            b.shape()
        ));
    }
    let (m, k, n) = (a.shape()[ra - 2], a.shape()[ra - 1], b.shape()[rb - 1]);
    let batch_a = Shape(a.shape()[..ra - 2].to_vec());
    let batch_b = Shape(b.shape()[..rb - 2].to_vec());
    let batch = broadcast_shapes(&batch_a, &batch_b)
        .ok_or_else(|| {
            format!(
                "shapes {:?} and {:?} do not broadcast",
                a.shape(),
                b.shape()
            )
        })?
        .0;
    let too_large = || {
        format!(
            "the product of {:?} and {:?} is too large",
            a.shape(),
            b.shape()
        )
    };
    let count = batch
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(too_large)?;
    count
        .checked_mul(m)
        .and_then(|x| x.checked_mul(n))
        .ok_or_else(too_large)?;
    let with = |last: [usize; 2]| -> Vec<usize> { batch.iter().copied().chain(last).collect() };
    let a_full = a
        .broadcast(IxDyn(&with([m, k])))
        .ok_or("cannot broadcast the left operand")?;
    let b_full = b
        .broadcast(IxDyn(&with([k, n])))
        .ok_or("cannot broadcast the right operand")?;
    let mut out = Array3::<T>::default((count, m, n));
    for (flat, index) in ndarray::indices(IxDyn(&batch)).into_iter().enumerate() {
        let mut av = a_full.view();
        let mut bv = b_full.view();
        for &i in index.slice() {
            av = av.index_axis_move(Axis(0), i);
            bv = bv.index_axis_move(Axis(0), i);
        }
        let av = av.into_dimensionality::<Ix2>().map_err(|e| e.to_string())?;
        let bv = bv.into_dimensionality::<Ix2>().map_err(|e| e.to_string())?;
        T::gemm(av, bv, out.index_axis_mut(Axis(0), flat));
    }
    out.into_shape_with_order(IxDyn(&with([m, n])))
        .map_err(|e| e.to_string())
}
