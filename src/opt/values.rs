//! Reading constants: the splat value, the leading values and bitwise
//! equality that CSE and simplification compare constants by.

use crate::ir::Tensor;
use crate::kernels::elem::Elem;
use ndarray::ArrayD;

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
