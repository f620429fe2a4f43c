//! Checking, once per process, that gemm's depth chunks on this machine are
//! the ones [`super::depth_chunk`] assumes (else the blockwise product would
//! not be bitwise gemm's own, and the whole copy runs instead).

use super::{product, Operands, Probe};
use crate::backend::jit::helpers::Layout;

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

/// `a @ b` by one gemm call reading `b` (row-major `[n, k]`) transposed.
pub(crate) fn whole<T: 'static + Copy + Default + Probe>(
    a: &[T],
    b: &[T],
    (m, k, n): (usize, usize, usize),
    la: Layout,
) -> Vec<T> {
    let mut c = vec![T::default(); m * n];
    let (a_rs, a_cs) = match la {
        Layout::Rows => (k as isize, 1),
        Layout::Trans => (1, m as isize),
    };
    // SAFETY: the buffers hold `m*k`, `k*n` and `m*n` elements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            k as isize,
            1,
            T::default(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    c
}
