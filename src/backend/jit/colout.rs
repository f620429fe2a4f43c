//! Products with few output columns whose left operand is stored transposed
//! (`dW3 = h2ᵀ @ g` of the MLP's 1024×10 layer): written column-major into a
//! scratch, then copied row-major.
//!
//! Why: gemm turns a row-major `c = a @ b` into the column-major
//! `cᵀ = bᵀ @ aᵀ`, so its microkernel rows (64 for f32) run over `c`'s 10
//! columns and `aᵀ` is read unpacked, 4 KiB between depth steps: 163 µs
//! (32 GFLOP/s) for 1024×256 @ 256×10. Asked for a column-major `c`, gemm keeps
//! `a @ b` as it is: its rows run over `c`'s 1024 rows and read `a` in the
//! column-major layout it wants: 47 µs (112 GFLOP/s), plus an exact 10K-element
//! copy (measured: `bench/history.md`, "MLP").
//!
//! Bits: gemm sums each output over `k` in order, in chunks of a depth that
//! depends on `k` only (`kernel_params`; the orientations differ only when
//! both sides are ≤ 64, which [`applies`] excludes), with the same packed
//! microkernels either way (`strides_keep_order`), so `c` is bitwise the
//! row-major call's (tested against the interpreter).

use super::gemm::{strides_keep_order, Layout};

/// At most this many output columns: gemm's f32 microkernel covers 64 rows
/// (32 for f64), so a narrower `c` leaves most of them idle in the row-major
/// orientation.
const MAX_COLS: usize = 32;

/// Whether `[m, k] @ [k, n]` with layouts `la`, `lb` goes through [`product`].
pub(crate) fn applies(m: usize, k: usize, n: usize, la: Layout, lb: Layout) -> bool {
    la == Layout::Trans
        && lb == Layout::Rows
        && n <= MAX_COLS
        && m > 64
        && m >= 8 * n
        && strides_keep_order(m, k, n)
}

/// `c = a @ b` (`a` column-major `m×k`, `b` row-major `k×n`, `c` row-major)
/// through a column-major scratch of `m*n` elements.
///
/// # Safety
/// `a`, `b` and `c` point at live buffers of `m*k`, `k*n` and `m*n` elements;
/// `c` overlaps neither `a` nor `b`.
pub(crate) unsafe fn product<T: 'static + Copy + Default + Send + Sync>(
    a: *const T,
    b: *const T,
    c: *mut T,
    (m, k, n): (usize, usize, usize),
    one: T,
    parallelism: gemm::Parallelism,
    scratch: &mut Vec<T>,
) {
    let len = m * n;
    // Every element is overwritten: fill only when the size changes.
    if scratch.len() != len {
        scratch.clear();
        scratch.resize(len, T::default());
    }
    // SAFETY: `a` is an `m×k` column-major matrix (row stride 1, column stride
    // m) and `b` a `k×n` row-major one inside buffers of the sizes the caller
    // guarantees; the scratch holds the `m×n` output column-major (row stride
    // 1, column stride m) and overlaps neither. `read_dst = false`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            scratch.as_mut_ptr(),
            m as isize,
            1,
            false,
            a,
            m as isize,
            1,
            b,
            1,
            n as isize,
            T::default(),
            one,
            false,
            false,
            false,
            parallelism,
        );
    }
    // SAFETY: the caller guarantees `c` holds `m*n` elements that nothing else
    // reads or writes during the call.
    let dst = unsafe { std::slice::from_raw_parts_mut(c, len) };
    // On this thread: at most 32 columns, too small a copy to hand half of
    // it to another thread.
    super::matmul::transpose_rows(scratch, dst, m, n, 0);
}

#[cfg(test)]
mod tests {
    use super::{applies, product};
    use crate::backend::jit::gemm::Layout;
    use crate::kernels::gemm::matmul_into;
    use ndarray::{Array2, ArrayView2};

    #[test]
    fn column_major_products_are_bitwise_gemms_row_major_ones() {
        // Odd sizes and depths of two and three gemm chunks (1024: 512 + 512;
        // 1030: 344 + 343 + 343). Reference and product both f32, so wider
        // than `narrow::MAX_N`: narrower f32 products go to `kernels::narrow`
        // on either side.
        for (m, k, n) in [
            (1024, 256, 20),
            (301, 77, 17),
            (200, 1030, 25),
            (300, 1024, 32),
            (160, 5, 18),
        ] {
            assert!(applies(m, k, n, Layout::Trans, Layout::Rows), "{m}x{k}x{n}");
            let value = |i: usize| ((i * 7919 % 1009) as f32 - 504.0) / 37.0;
            let a: Vec<f32> = (0..m * k).map(value).collect(); // [k, m] row-major
            let b: Vec<f32> = (0..k * n).map(|i| value(i + 13)).collect();
            let av = ArrayView2::from_shape((k, m), &a[..]).map(|t| t.reversed_axes());
            let bv = ArrayView2::from_shape((k, n), &b[..]);
            let mut want = Array2::<f32>::zeros((m, n));
            let (Ok(av), Ok(bv)) = (av, bv) else {
                panic!("views of {m}x{k}x{n}")
            };
            assert!(matmul_into(av, bv, want.view_mut()));
            let mut got = vec![f32::NAN; m * n];
            let mut scratch = Vec::new();
            // SAFETY: the buffers have the sizes `product` asks for.
            unsafe {
                product(
                    a.as_ptr(),
                    b.as_ptr(),
                    got.as_mut_ptr(),
                    (m, k, n),
                    1.0,
                    gemm::Parallelism::None,
                    &mut scratch,
                )
            };
            let same = got
                .iter()
                .zip(want.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{m}x{k}x{n}: not bitwise the row-major product");
        }
    }

    #[test]
    fn the_rule_keeps_wide_or_small_products_row_major() {
        assert!(!applies(1024, 256, 1024, Layout::Trans, Layout::Rows));
        assert!(!applies(1024, 256, 10, Layout::Rows, Layout::Rows));
        assert!(!applies(1024, 256, 10, Layout::Trans, Layout::Trans));
        assert!(!applies(64, 256, 8, Layout::Trans, Layout::Rows));
        assert!(!applies(1024, 2, 10, Layout::Trans, Layout::Rows));
    }
}
