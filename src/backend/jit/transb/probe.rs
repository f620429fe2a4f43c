//! Checking, once per process, that gemm's depth chunks on this machine are
//! the ones [`super::depth_chunk`] assumes (else the blockwise product would
//! not be bitwise gemm's own, and the whole copy runs instead).

use super::{product, Operands, Probe};
use crate::backend::jit::gemm::Layout;
use crate::kernels::gemm::matmul_into;
use ndarray::{Array2, ArrayView2, ShapeBuilder};

/// Whether gemm's depth chunks on this machine are [`depth_chunk`]'s, tested
/// once per element type: a product of depth 513 (two chunks, 257 + 256,
/// under the rule; one chunk if L1 were large enough to raise gemm's `kc`)
/// computed whole and blockwise must agree bitwise.
pub(crate) fn chunks_agree<T: 'static + Copy + Default + Send + Sync + Probe>() -> bool {
    T::cell()
        .get_or_init(|| {
            let (m, k, n) = (130, 513, 140);
            let value = |i: usize| T::from_f64(((i * 7919 % 1009) as f64 - 504.0) / 37.0);
            let a: Vec<T> = (0..m * k).map(value).collect();
            let b: Vec<T> = (0..n * k).map(|i| value(i + 31)).collect();
            let one_call = whole(&a, &b, (m, k, n), Layout::Rows);
            let mut blocks = vec![T::default(); m * n];
            let ops = Operands::new(
                a.as_ptr(),
                b.as_ptr(),
                blocks.as_mut_ptr(),
                (m, k, n),
                Layout::Rows,
            );
            // SAFETY: the buffers have the sizes `product` asks for.
            unsafe { product(ops, T::one(), 1, &mut Vec::new()) };
            one_call
                .iter()
                .zip(&blocks)
                .all(|(x, y)| x.bits() == y.bits())
        })
        .to_owned()
}

/// `a @ b` by one call of the GEMM both backends share, reading `b`
/// (row-major `[n, k]`) transposed.
pub(crate) fn whole<T: 'static + Copy + Default + Probe>(
    a: &[T],
    b: &[T],
    (m, k, n): (usize, usize, usize),
    la: Layout,
) -> Vec<T> {
    let a = match la {
        Layout::Rows => ArrayView2::from_shape((m, k), a),
        Layout::Trans => ArrayView2::from_shape((k, m), a).map(|t| t.reversed_axes()),
        Layout::Band(ld) => ArrayView2::from_shape((m, k).strides((ld, 1)), a),
    };
    let b = ArrayView2::from_shape((n, k), b).map(|t| t.reversed_axes());
    let mut c = Array2::default((m, n));
    let ok = match (a, b) {
        (Ok(a), Ok(b)) => matmul_into(a, b, c.view_mut()),
        _ => false,
    };
    assert!(
        ok,
        "whole: operands of {m}x{k}x{n} do not match their buffers"
    );
    c.into_raw_vec_and_offset().0
}
