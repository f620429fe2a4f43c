//! Products `a @ b` whose right operand is read transposed (`g @ wᵀ` of a
//! dense layer's backward pass) with a long depth: gemm packs such a `b` by
//! strided gathers, at 2/3 of its row-major rate, so `b` is copied row-major
//! first. The copy goes block by block into a scratch that stays in L2: one
//! block of `kc` depth rows (gemm's own depth chunk) by [`NB`] columns, then
//! one gemm call on that block, accumulating into `c` after the first chunk.
//!
//! Bits: gemm sums each output over `k` in chunks of its `kc`, the first
//! chunk written (`dst = acc`), the next ones added with one rounding
//! (`dst = fma(1, acc, dst)`). Calling gemm per chunk with `read_dst` after
//! the first does the same, as long as the chunks are gemm's own: [`depth_chunk`]
//! repeats gemm 0.19's rule, and [`chunks_agree`] checks once per process that
//! this machine's cache sizes give that rule (else the whole copy is used).
//! Splitting the columns changes no sum (each output's sum is over `k` only).

use super::gemm::Layout;
use std::sync::OnceLock;

/// Columns per block: 512 depth rows × 128 f32 columns is 256 KiB. With at
/// most 128 (2·gemm's MR) columns gemm reads `a` without packing it.
pub(crate) const NB: usize = 128;

/// Tiles of this side go through a local buffer: each tile reads and writes
/// whole cache lines, and rows 4 KiB apart do not evict each other.
const TILE: usize = 16;

/// A whole-tile transpose: `dst[j*dst_stride + i] = src[i*stride + j]` for
/// `i, j < TILE`, for pointers at the tile's first element.
pub(crate) type TileFn<T> = unsafe fn(*const T, usize, *mut T, usize);

/// `dst[r*cols + c] = src[c*stride + r]` for `r < rows`, `c < cols`; whole
/// tiles through `fast` when given.
fn transpose_block<T: Copy + Default>(
    src: &[T],
    stride: usize,
    dst: &mut [T],
    (rows, cols): (usize, usize),
    fast: Option<TileFn<T>>,
) {
    let mut tile = [[T::default(); TILE]; TILE];
    for c0 in (0..cols).step_by(TILE) {
        let cw = TILE.min(cols - c0);
        for r0 in (0..rows).step_by(TILE) {
            let rw = TILE.min(rows - r0);
            let (from, to) = (c0 * stride + r0, r0 * cols + c0);
            let src_end = (c0 + TILE - 1) * stride + r0 + TILE;
            let dst_end = (r0 + TILE - 1) * cols + c0 + TILE;
            if let Some(fast) = fast {
                if cw == TILE && rw == TILE && src_end <= src.len() && dst_end <= dst.len() {
                    // SAFETY: the tile's last elements, `src_end - 1` and
                    // `dst_end - 1`, were checked in bounds just above.
                    unsafe {
                        fast(
                            src.as_ptr().add(from),
                            stride,
                            dst.as_mut_ptr().add(to),
                            cols,
                        )
                    };
                    continue;
                }
            }
            for (i, line) in tile.iter_mut().enumerate().take(cw) {
                let start = (c0 + i) * stride + r0;
                if let Ok(whole) = <&[T; TILE]>::try_from(&src[start..start + rw]) {
                    // Constant length: moved inline, not by a memcpy call.
                    *line = *whole;
                } else {
                    line[..rw].copy_from_slice(&src[start..start + rw]);
                }
            }
            for j in 0..rw {
                let at = (r0 + j) * cols + c0;
                let out = &mut dst[at..at + cw];
                if let Ok(out) = <&mut [T; TILE]>::try_from(&mut *out) {
                    for (o, line) in out.iter_mut().zip(&tile) {
                        *o = line[j];
                    }
                } else {
                    for (o, line) in out.iter_mut().zip(&tile) {
                        *o = line[j];
                    }
                }
            }
        }
    }
}

/// gemm 0.19's depth chunk for a product of depth `k` with more than 64 rows
/// or columns (`kernel_params`): `max(auto, 512)` capped at `k`, then evened
/// out over the chunk count. `auto` is 128 on a 32 KiB 8-way L1 and stays
/// below 512 unless L1 is far larger ([`chunks_agree`] checks).
pub(crate) fn depth_chunk(k: usize) -> usize {
    let base = k.clamp(1, 512);
    k.div_ceil(k.div_ceil(base))
}

/// The column blocks of `cols`: as few as hold at most [`NB`] columns each,
/// of balanced widths, so none is narrow (gemm picks other kernels, which sum in
/// another order, for one column; see `gemm::strides_keep_order`).
fn blocks(cols: std::ops::Range<usize>) -> impl Iterator<Item = (usize, usize)> {
    let len = cols.len();
    let count = len.div_ceil(NB).max(1);
    (0..count).map(move |i| {
        let start = cols.start + len * i / count;
        (start, cols.start + len * (i + 1) / count - start)
    })
}

/// A raw pointer that may cross to another rayon task (the tasks write
/// disjoint columns of `c`).
#[derive(Clone, Copy)]
struct Ptr<T>(*mut T);
// SAFETY: only used to hand disjoint column ranges of `c` (and the shared,
// read-only `a`, `b`) to the column ranges of a `rayon::scope`.
unsafe impl<T> Send for Ptr<T> {}
unsafe impl<T> Sync for Ptr<T> {}

/// One product's operands: `a` (`m×k` in layout `la`), `b` (`k×n` read
/// transposed: row-major `[n, k]`), `c` (`m×n` row-major).
#[derive(Clone, Copy)]
pub(crate) struct Operands<T> {
    a: Ptr<T>,
    b: Ptr<T>,
    c: Ptr<T>,
    mkn: (usize, usize, usize),
    la: Layout,
}

impl<T> Operands<T> {
    pub(crate) fn new(
        a: *const T,
        b: *const T,
        c: *mut T,
        mkn: (usize, usize, usize),
        la: Layout,
    ) -> Self {
        Operands {
            a: Ptr(a as *mut T),
            b: Ptr(b as *mut T),
            c: Ptr(c),
            mkn,
            la,
        }
    }
}

/// The columns `cols` of `c`, block by block, on this thread.
///
/// # Safety
/// As for [`product`]; `scratch` holds at least `depth_chunk(k) * NB`
/// elements.
unsafe fn columns<T: 'static + Copy + Default + Probe>(
    ops: Operands<T>,
    cols: std::ops::Range<usize>,
    one: T,
    scratch: &mut [T],
) {
    let (m, k, n) = ops.mkn;
    let kc = depth_chunk(k);
    let (a_rs, a_cs) = ops.la.strides(m, k);
    // SAFETY: the caller guarantees `b` holds `k*n` elements.
    let b = unsafe { std::slice::from_raw_parts(ops.b.0 as *const T, k * n) };
    for (n0, nb) in blocks(cols) {
        for k0 in (0..k).step_by(kc) {
            let kw = kc.min(k - k0);
            let block = &mut scratch[..kw * nb];
            transpose_block(&b[n0 * k + k0..], k, block, (kw, nb), T::tile_fn());
            // SAFETY: `a` offset by `k0` columns and `c` by `n0` columns stay
            // inside their matrices, which the caller guarantees; the block
            // is a row-major `kw × nb` matrix in `scratch`, which overlaps
            // neither. After the first chunk `c` is read (accumulated).
            unsafe {
                gemm::gemm(
                    m,
                    nb,
                    kw,
                    ops.c.0.add(n0),
                    1,
                    n as isize,
                    k0 > 0,
                    (ops.a.0 as *const T).offset(k0 as isize * a_cs),
                    a_cs,
                    a_rs,
                    block.as_ptr(),
                    1,
                    nb as isize,
                    one,
                    one,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    }
}

/// `c = a @ b` with `b` read transposed, as block copies and per-chunk gemm
/// calls; the columns are split into one range per thread (each at least
/// `NB` wide) when `threads` and `n` allow. `scratch` is reused across calls.
///
/// # Safety
/// `a`, `b` and `c` point at live buffers of `m*k`, `k*n` and `m*n` elements
/// (`a` contiguous in its layout, `b` a row-major `[n, k]`, `c` row-major);
/// `c` overlaps neither `a` nor `b`.
pub(crate) unsafe fn product<T: 'static + Copy + Default + Send + Sync + Probe>(
    ops: Operands<T>,
    one: T,
    threads: usize,
    scratch: &mut Vec<T>,
) {
    let (_, k, n) = ops.mkn;
    let block = depth_chunk(k) * NB;
    // One column range per thread, each at least NB wide and starting on a
    // multiple of NB, with a scratch block of its own.
    let parts = threads.min(n / NB).max(1);
    if scratch.len() < parts * block {
        scratch.resize(parts * block, T::default());
    }
    if parts > 1 {
        let bound = |i: usize| {
            if i == parts {
                n
            } else {
                n * i / parts / NB * NB
            }
        };
        rayon::scope(|s| {
            for (i, own) in scratch.chunks_mut(block).take(parts).enumerate() {
                let cols = bound(i)..bound(i + 1);
                // SAFETY: the ranges write disjoint columns of `c` and use
                // disjoint scratch; `a` and `b` are only read.
                s.spawn(move |_| unsafe { columns(ops, cols, one, own) });
            }
        });
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { columns(ops, 0..n, one, scratch) }
    }
}

/// The element types [`chunks_agree`] probes.
/// (`One` is the GEMM's unit, shared with `kernels::gemm`.)
pub(crate) trait Probe: Sized + 'static + crate::kernels::gemm::num_one::One {
    fn cell() -> &'static OnceLock<bool>;
    fn from_f64(v: f64) -> Self;
    fn bits(&self) -> u64;
    /// The whole-tile transpose for this type on this machine, if any.
    fn tile_fn() -> Option<TileFn<Self>> {
        None
    }
}

impl Probe for f32 {
    fn cell() -> &'static OnceLock<bool> {
        static CELL: OnceLock<bool> = OnceLock::new();
        &CELL
    }
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn bits(&self) -> u64 {
        self.to_bits() as u64
    }
    fn tile_fn() -> Option<TileFn<f32>> {
        tile::for_f32()
    }
}

impl Probe for f64 {
    fn cell() -> &'static OnceLock<bool> {
        static CELL: OnceLock<bool> = OnceLock::new();
        &CELL
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn bits(&self) -> u64 {
        self.to_bits()
    }
}

mod probe;
#[cfg(test)]
mod tests;
mod tile;

pub(crate) use probe::chunks_agree;
#[cfg(test)]
use probe::whole;
