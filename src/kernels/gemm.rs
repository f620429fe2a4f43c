//! The one GEMM that both backends use for float matrix products (the `gemm`
//! crate, AVX-512 kernels with its `x86-v4` feature; `f32` products at most
//! sixteen columns wide by `narrow.rs`). Sharing it keeps the
//! interpreter and the JIT in the same summation order, so programs whose
//! values come from cancellation (a small loss late in training) agree far
//! below the 1e-5 the backends promise, not just within it.

use ndarray::{ArrayView2, ArrayViewMut2};

/// `c = a @ b` on 2-D views of any strides. Shapes must agree
/// (`a: [m, k]`, `b: [k, n]`, `c: [m, n]`); otherwise nothing is written and
/// `false` is returned.
pub fn matmul_into<T: 'static + Copy + Default + num_one::One>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
) -> bool {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 || c.dim() != (m, n) {
        return false;
    }
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 {
        c.fill(T::default());
        return true;
    }
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && super::narrow::applies(m, k, n)
    {
        use super::narrow::Strided;
        // SAFETY: `T` is `f32`; the views' shapes were checked above, so the
        // strides address their elements only, and `c` is a unique mutable
        // view overlapping neither input.
        unsafe {
            super::narrow::product(
                Strided {
                    ptr: a.as_ptr() as *const f32,
                    rs: a_rs,
                    cs: a_cs,
                },
                Strided {
                    ptr: b.as_ptr() as *const f32,
                    rs: b_rs,
                    cs: b_cs,
                },
                Strided {
                    ptr: c.as_mut_ptr() as *mut f32,
                    rs: c_rs,
                    cs: c_cs,
                },
                (m, k, n),
                1,
            )
        };
        return true;
    }
    // SAFETY: the pointers and strides come from live ndarray views whose
    // shapes were checked above, so every element gemm reads (m*k of `a`, k*n of
    // `b`) and writes (m*n of `c`) lies inside its view; `c` is a unique
    // mutable view, so it overlaps neither input. `read_dst = false`: `c` is only
    // written.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            false,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::default(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    true
}

/// The multiplicative identity, for the `beta` argument of gemm.
pub mod num_one {
    pub trait One {
        fn one() -> Self;
    }
    impl One for f32 {
        fn one() -> f32 {
            1.0
        }
    }
    impl One for f64 {
        fn one() -> f64 {
            1.0
        }
    }
}
