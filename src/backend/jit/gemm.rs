//! The GEMM helpers generated code calls: the `gemm` crate on row-major
//! matrices (an operand may be stored transposed), one helper per dtype and
//! per log setting (`Options::gemm_log`).

use std::cell::RefCell;
use std::thread::LocalKey;
use std::time::Instant;

/// Products of at least this many multiply-adds use several threads: below it
/// (e.g. the FC layer 64×3072 @ 3072×42, 8M) two threads are slower than one.
const GEMM_PARALLEL_MIN: usize = 1 << 25;

/// The gemm crate's threading for one product (see [`crate::backend::threads`]).
/// Its result does not depend on the thread count: threads split the output
/// into tiles and each tile's sums over `k` run in the same order (tested).
fn parallelism(m: usize, k: usize, n: usize) -> gemm::Parallelism {
    let threads = crate::backend::threads::threads();
    let work = m.saturating_mul(k).saturating_mul(n);
    if threads > 1 && work >= GEMM_PARALLEL_MIN {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    }
}

/// Whether an operand is stored transposed (`Trans`: the matrix `[r, c]` is
/// read from a row-major `[c, r]` buffer, the transpose the plan absorbed),
/// or is a band of a wider row-major buffer (`Band(ld)`: rows `ld` elements
/// apart, columns contiguous: a slice `x[a:b:s, c:d]` read in place).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Rows,
    Trans,
    Band(usize),
}

impl Layout {
    /// The helpers' argument: 0, 1, or `2 + ld`.
    pub(crate) fn code(self) -> i64 {
        match self {
            Layout::Rows => 0,
            Layout::Trans => 1,
            Layout::Band(ld) => 2 + ld as i64,
        }
    }

    /// (row stride, column stride) of an `[r, c]` matrix in this layout.
    pub(crate) fn strides(self, r: usize, c: usize) -> (isize, isize) {
        match self {
            Layout::Rows => (c as isize, 1),
            Layout::Trans => (1, r as isize),
            Layout::Band(ld) => (ld as isize, 1),
        }
    }

    /// Elements from the first to one past the last of an `[r, c]` matrix.
    pub(crate) fn span(self, r: usize, c: usize) -> usize {
        match self {
            Layout::Band(ld) if r > 0 && c > 0 => (r - 1) * ld + c,
            _ => r * c,
        }
    }
}

/// Whether gemm sums a product `[m, k] @ [k, n]` in the same order whatever
/// the operands' strides: below these sizes gemm 0.19 picks special kernels
/// by stride (dot-product "horizontal" kernels for m·n ≤ 256, `gevv` for
/// k ≤ 2, row- or column-major `gemv` for m or n ≤ 1), which order the sums
/// differently; above them it packs panels and runs one microkernel, so a
/// strided (transposed) operand gives bitwise the materialised copy's result
/// (tested in `tests/transpose.rs`).
pub(crate) fn strides_keep_order(m: usize, k: usize, n: usize) -> bool {
    m >= 2 && n >= 2 && k >= 3 && m.saturating_mul(n) > 256
}

/// Right operands read transposed are copied to row-major first when the
/// product has at least this many rows and this depth: gemm packs a
/// transposed `b` with strided gathers, and `g @ wᵀ` of the MLP (256×1024 @
/// 1024×1024) took 7.8 ms that way against 6.1 ms for the copy plus the
/// row-major product. With few rows (the convnet's 64×10 @ 10×9216: 240 →
/// 305 µs) or a short depth (the MLP's 256×10 @ 10×1024: 63 → 72 µs) the copy
/// costs more than it saves (measured: `bench/history.md`, "MLP GEMMs"). The copy
/// is exact and gemm sums in the same order on either layout
/// (`strides_keep_order`), so results do not change.
const COPY_TRANS_B_MIN: usize = 128;

/// `c[m×n] = a[m×k] @ b[k×n]`, `c` row-major and contiguous, `a` and `b`
/// contiguous in layout `la`, `lb`; `scratch` holds the row-major copy of a
/// transposed `b` (see [`COPY_TRANS_B_MIN`]) or the column-major `c` of a
/// narrow product (`colout`).
///
/// # Safety
/// `a`, `b` and `c` point at live buffers of `m*k`, `k*n` and `m*n` elements
/// (`la.span(m, k)` and `lb.span(k, n)` for a band); `c` does not overlap `a`
/// or `b`.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_rows<T: 'static + Copy + Default + Send + Sync + super::transb::Probe>(
    a: *const T,
    b: *const T,
    c: *mut T,
    (m, k, n): (usize, usize, usize),
    la: Layout,
    lb: Layout,
    one: T,
    scratch: &mut Vec<T>,
) {
    if m == 0 || n == 0 {
        return;
    }
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && crate::kernels::narrow::applies(m, k, n)
    {
        // SAFETY: `T` is `f32`; the caller's guarantee, as `narrow::product`
        // asks (the interpreter takes the same path: the same bits).
        unsafe {
            narrow(
                a as *const f32,
                b as *const f32,
                c as *mut f32,
                (m, k, n),
                la,
                lb,
            )
        };
        return;
    }
    if super::colout::applies(m, k, n, la, lb) {
        // SAFETY: the caller's guarantee; `applies` checked the layouts
        // `colout::product` asks for.
        unsafe { super::colout::product(a, b, c, (m, k, n), one, parallelism(m, k, n), scratch) };
        return;
    }
    let (mut b, mut lb) = (b, lb);
    let copy_b = lb == Layout::Trans
        && m >= COPY_TRANS_B_MIN
        && k >= COPY_TRANS_B_MIN
        && strides_keep_order(m, k, n);
    if copy_b && super::transb::chunks_agree::<T>() {
        let threads = match parallelism(m, k, n) {
            gemm::Parallelism::Rayon(t) => t,
            gemm::Parallelism::None => 1,
        };
        let ops = super::transb::Operands::new(a, b, c, (m, k, n), la);
        // SAFETY: the caller's guarantee, as `transb::product` asks.
        unsafe { super::transb::product(ops, one, threads, scratch) };
        return;
    }
    if copy_b {
        let len = k * n;
        // Every element is overwritten: fill only when the size changes.
        if scratch.len() != len {
            scratch.clear();
            scratch.resize(len, T::default());
        }
        // SAFETY: the caller guarantees `b` points at `k*n` live elements.
        let src = unsafe { std::slice::from_raw_parts(b, len) };
        super::matmul::transpose_into(src, scratch, k, n);
        (b, lb) = (scratch.as_ptr(), Layout::Rows);
    }
    let (a_rs, a_cs) = la.strides(m, k);
    let (b_rs, b_cs) = lb.strides(k, n);
    // SAFETY: the caller guarantees the buffer sizes above; in either layout
    // the strides address exactly the `r*c` elements of a contiguous matrix
    // (row-major, or row-major `[c, r]` read transposed). `read_dst = false` so
    // `c` is only written; with `k = 0` gemm writes zeros.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            1,
            n as isize,
            false,
            a,
            a_cs,
            a_rs,
            b,
            b_cs,
            b_rs,
            T::default(),
            one,
            false,
            false,
            false,
            parallelism(m, k, n),
        )
    }
}

/// An `f32` product at most sixteen columns wide (`kernels::narrow`), rows
/// split among threads as gemm would be.
///
/// # Safety
/// As for [`gemm_rows`].
unsafe fn narrow(
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    (m, k, n): (usize, usize, usize),
    la: Layout,
    lb: Layout,
) {
    use crate::kernels::narrow::{product, Strided};
    let ((a_rs, a_cs), (b_rs, b_cs)) = (la.strides(m, k), lb.strides(k, n));
    let threads = match parallelism(m, k, n) {
        gemm::Parallelism::Rayon(t) => t,
        gemm::Parallelism::None => 1,
    };
    let a = Strided {
        ptr: a,
        rs: a_rs,
        cs: a_cs,
    };
    let b = Strided {
        ptr: b,
        rs: b_rs,
        cs: b_cs,
    };
    let c = Strided {
        ptr: c,
        rs: n as isize,
        cs: 1,
    };
    // SAFETY: the caller's buffers of m*k, k*n and m*n elements, addressed by
    // their layouts' strides; `c` is row-major and overlaps neither input.
    unsafe { product(a, b, c, (m, k, n), threads) }
}

fn layout(code: usize) -> Layout {
    match code {
        0 => Layout::Rows,
        1 => Layout::Trans,
        ld => Layout::Band(ld - 2),
    }
}

thread_local! {
    /// Per thread, reused from call to call: the row-major copies of
    /// transposed right operands (a 4 MiB buffer per step would be
    /// allocated and freed on every call otherwise).
    static SCRATCH_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static SCRATCH_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch, or with a fresh one when it is busy
/// (a GEMM waiting for its rayon tasks may run another kernel's GEMM on the
/// same thread) or already destroyed (thread exit).
fn with_scratch<T>(key: &'static LocalKey<RefCell<Vec<T>>>, mut f: impl FnMut(&mut Vec<T>)) {
    let done = key.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            f(&mut scratch);
            true
        }
        Err(_) => false,
    });
    if done != Ok(true) {
        f(&mut Vec::new());
    }
}

/// One GEMM with the helpers' arguments, its shape, layouts, time and rate
/// printed on stderr if `log` (the numbers in docs/jit.md came from it).
///
/// # Safety
/// As for [`gemm_rows`].
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_call<T: 'static + Copy + Default + Send + Sync + super::transb::Probe>(
    key: &'static LocalKey<RefCell<Vec<T>>>,
    a: *const T,
    b: *const T,
    c: *mut T,
    (m, k, n): (usize, usize, usize),
    (ta, tb): (usize, usize),
    one: T,
    log: bool,
) {
    let start = log.then(Instant::now);
    with_scratch(key, |scratch| {
        // SAFETY: the caller's guarantee; `scratch` belongs to this thread
        // and is none of the operands.
        unsafe { gemm_rows(a, b, c, (m, k, n), layout(ta), layout(tb), one, scratch) }
    });
    if let Some(start) = start {
        let us = start.elapsed().as_secs_f64() * 1e6;
        let gflops = 2.0 * (m * k * n) as f64 / us.max(1e-3) / 1e3;
        eprintln!(
            "gemm {m}x{k}x{n} layouts {ta}{tb} threads {}: {us:.0} us, {gflops:.1} GFLOP/s",
            crate::backend::threads::threads()
        );
    }
}

/// The GEMM helpers generated code calls, one per dtype and log setting:
/// called with pointers the matmul kernel computed from static shapes (see
/// `matmul.rs`, which proves them in bounds); `ta`, `tb` are
/// [`Layout::code`]s.
macro_rules! gemm_helper {
    ($name:ident, $t:ty, $scratch:ident, $log:expr) => {
        #[allow(clippy::too_many_arguments)]
        pub(super) extern "C" fn $name(
            a: *const $t,
            b: *const $t,
            c: *mut $t,
            m: usize,
            k: usize,
            n: usize,
            ta: usize,
            tb: usize,
        ) {
            // SAFETY: the matmul kernel passes operand pointers offset by whole
            // matrices within buffers whose sizes it checked against the static
            // shapes.
            unsafe { gemm_call(&$scratch, a, b, c, (m, k, n), (ta, tb), 1.0, $log) }
        }
    };
}

gemm_helper!(tdsl_gemm_f32, f32, SCRATCH_F32, false);
gemm_helper!(tdsl_gemm_f64, f64, SCRATCH_F64, false);
gemm_helper!(tdsl_gemm_f32_log, f32, SCRATCH_F32, true);
gemm_helper!(tdsl_gemm_f64_log, f64, SCRATCH_F64, true);
