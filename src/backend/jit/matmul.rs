//! `MatMul` kernels: a loop nest over the (broadcast) batch axes whose body calls
//! the `gemm` crate through the registered helper `tdsl_gemm_f32`/`_f64` with
//! pointers to one row-major matrix of each operand.
//!
//! The batch nest is built in units of whole matrices, so [`Nest::new`]'s bounds
//! proof shows every matrix pointer starts a complete matrix inside its buffer;
//! `check_bounds` checks each whole matrix range at run time as well.
//!
//! An operand that is a `transpose` of the last two axes (autodiff's
//! `matmul(transpose(x), g)`) can be read in place: the plan passes `x` with
//! [`Layout::Trans`] and gemm gets its transposed strides, so the transposed
//! copy is never stored.

use super::codegen::{internal, Jit};
use super::gemm::Layout;
use super::nest::{Body, Emitter, Nest};
use crate::diag::Diag;
use crate::ir::{DType, Graph, NodeId};
use cranelift_codegen::ir::{FuncRef, InstBuilder, Type, Value};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId, Module};

/// Splits `dims` into (batch axes, rows, columns).
fn split(dims: &[usize]) -> Option<(&[usize], usize, usize)> {
    match dims {
        [batch @ .., r, c] => Some((batch, *r, *c)),
        _ => None,
    }
}

/// One planned matmul: its node, the buffers it reads (the node's inputs, or
/// a transpose's input) and how each is laid out.
#[derive(Clone, Debug)]
pub(crate) struct MatMul {
    pub(crate) node: NodeId,
    pub(crate) operands: [NodeId; 2],
    /// The nodes whose types give the operands' dims as the kernel reads
    /// them: the operand itself, or the reshape read in place (the same
    /// number of elements as its input).
    pub(crate) typed: [NodeId; 2],
    pub(crate) layouts: [Layout; 2],
    /// Per operand, the offset of its first element in the buffer (a band's
    /// start; 0 otherwise).
    pub(crate) bases: [usize; 2],
}

/// Splits an operand's stored dims into (batch, rows, columns) of the matrix
/// it holds in `layout`.
fn matrix(dims: &[usize], layout: Layout) -> Option<(&[usize], usize, usize)> {
    let (batch, r, c) = split(dims)?;
    Some(match layout {
        Layout::Rows | Layout::Band(_) => (batch, r, c),
        Layout::Trans => (batch, c, r),
    })
}

/// Builds the kernel of `mm` (3 operands: a, b, out).
pub(crate) fn compile(
    jit: &mut Jit,
    graph: &Graph,
    mm: &MatMul,
    check: bool,
) -> Result<FuncId, Diag> {
    let node = graph.node(mm.node);
    let [a, b] = mm.typed;
    let (ta, tb, to) = (graph.ty(a), graph.ty(b), &node.ty);
    for k in 0..2 {
        // What the proof below covers is the typed shape: the buffer must
        // hold exactly as many elements, or, for a band (one matrix), the
        // elements from its base to its last.
        let (have, want) = (graph.ty(mm.operands[k]), graph.ty(mm.typed[k]));
        let fits = match (mm.layouts[k], want.shape.dims()) {
            (Layout::Band(_), &[r, c]) => mm.bases[k]
                .checked_add(mm.layouts[k].span(r, c))
                .is_some_and(|end| end <= have.shape.numel()),
            (Layout::Band(_), _) => false,
            _ => have.shape.numel() == want.shape.numel() && mm.bases[k] == 0,
        };
        if have.dtype != want.dtype || !fits {
            return Err(internal(format!("matmul reads a {have} buffer as {want}")));
        }
    }
    let shapes = (
        matrix(ta.shape.dims(), mm.layouts[0]),
        matrix(tb.shape.dims(), mm.layouts[1]),
        split(to.shape.dims()),
    );
    let (Some((ba, m, k)), Some((bb, k2, n)), Some((bo, m2, n2))) = shapes else {
        return Err(internal("matmul operands need two axes"));
    };
    if k != k2 || m != m2 || n != n2 {
        return Err(internal(format!(
            "matmul shapes {} @ {} -> {} do not agree",
            ta.shape, tb.shape, to.shape
        )));
    }
    // The batch nest in whole matrices (proves every matrix in bounds), then
    // scaled to elements.
    let mut nest = Nest::new(bo, &[ba, bb, bo])?;
    let sizes = [m * k, k * n, m * n];
    for (row, size) in nest.strides.iter_mut().zip(sizes) {
        for s in row.iter_mut() {
            *s = s
                .checked_mul(size as i64)
                .ok_or_else(|| internal("matmul strides overflow"))?;
        }
    }
    // A band's matrix starts at its base and spans its rows' stride.
    for (base, &b) in nest.bases.iter_mut().zip(&mm.bases) {
        *base = b as i64;
    }
    let spans = [mm.layouts[0].span(m, k), mm.layouts[1].span(k, n), m * n];
    let lens = [graph.ty(mm.operands[0]), graph.ty(mm.operands[1]), to]
        .iter()
        .map(|t| t.shape.numel() as i64)
        .collect();
    let helper = match (ta.dtype, jit.gemm_log) {
        (DType::F32, false) => "tdsl_gemm_f32",
        (DType::F64, false) => "tdsl_gemm_f64",
        (DType::F32, true) => "tdsl_gemm_f32_log",
        (DType::F64, true) => "tdsl_gemm_f64_log",
        (other, _) => return Err(internal(format!("no GEMM for {other}"))),
    };

    jit.begin();
    let config = jit.module.target_config();
    let ptr = config.pointer_type();
    let params: Vec<Type> = vec![ptr; 8];
    let func_id = jit.import(helper, &params, &[])?;
    let func = jit.module.declare_func_in_func(func_id, &mut jit.ctx.func);
    let builder = FunctionBuilder::new(&mut jit.ctx.func, &mut jit.builder_ctx);
    let mut body = Gemm {
        func,
        ptr,
        sizes: spans.map(|s| s as i64),
        dims: [m, k, n].map(|d| d as i64),
        elem: ta.dtype.size_bytes() as i64,
        layouts: mm.layouts.map(Layout::code),
    };
    Emitter::new(builder, config, lens, check).run(&nest, &mut body, false, false)?;
    jit.define("matmul")
}

/// The body: one GEMM call on the matrices at the current offsets.
struct Gemm {
    func: FuncRef,
    ptr: Type,
    /// Elements each matrix of a, b and the output spans.
    sizes: [i64; 3],
    /// m, k, n.
    dims: [i64; 3],
    elem: i64,
    /// [`Layout::code`] of a and b.
    layouts: [i64; 2],
}

impl Body for Gemm {
    fn element(&mut self, e: &mut Emitter, offsets: &[Value], _lanes: u32) -> Result<(), Diag> {
        let mut args = Vec::with_capacity(8);
        for (operand, &off) in offsets.iter().enumerate().take(3) {
            args.push(e.address(operand, off, self.sizes[operand], self.elem));
        }
        for d in self.dims.into_iter().chain(self.layouts) {
            args.push(e.b.ins().iconst(self.ptr, d));
        }
        e.b.ins().call(self.func, &args);
        Ok(())
    }
}

/// The copy moves square tiles of this side through a local buffer: each
/// tile reads and writes whole cache lines, and rows 4 KiB apart (1024
/// floats) do not evict each other as they would read in place.
const TILE: usize = 16;

/// `dst[r*cols + c] = src[c*rows + r]` for the rows `r0..` that `dst`
/// holds: the row-major `[rows, cols]` matrix whose transpose `src` holds.
/// `src` holds `rows*cols` elements, `dst` a whole number of rows.
pub(crate) fn transpose_rows<T: Copy + Default>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    cols: usize,
    r0: usize,
) {
    if cols == 0 {
        return;
    }
    let mut tile = [[T::default(); TILE]; TILE];
    let r_end = r0 + dst.len() / cols;
    for c0 in (0..cols).step_by(TILE) {
        let cw = TILE.min(cols - c0);
        for rb in (r0..r_end).step_by(TILE) {
            let rw = TILE.min(r_end - rb);
            for (i, line) in tile.iter_mut().enumerate().take(cw) {
                let start = (c0 + i) * rows + rb;
                line[..rw].copy_from_slice(&src[start..start + rw]);
            }
            let out_rows = dst.chunks_exact_mut(cols).skip(rb - r0).take(rw);
            for (j, out) in out_rows.enumerate() {
                let out = &mut out[c0..c0 + cw];
                if let Ok(out) = <&mut [T; TILE]>::try_from(&mut *out) {
                    // A whole tile: constant bounds, so the loop unrolls.
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

/// The whole copy, in two halves of rows on two threads when the thread
/// count allows (the copy is exact, so the split does not change results).
pub(crate) fn transpose_into<T: Copy + Default + Send + Sync>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    cols: usize,
) {
    if crate::backend::threads::threads() > 1 && rows >= 2 * TILE {
        let half = rows / 2 / TILE * TILE;
        let (lo, hi) = dst.split_at_mut(half * cols);
        rayon::join(
            || transpose_rows(src, lo, rows, cols, 0),
            || transpose_rows(src, hi, rows, cols, half),
        );
    } else {
        transpose_rows(src, dst, rows, cols, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::{transpose_into, transpose_rows};

    #[test]
    fn transposed_copies_are_exact() {
        // Full and partial tiles, one row or column, and both halves of the
        // two-thread split.
        for (rows, cols) in [(37, 53), (16, 16), (64, 33), (1, 5), (5, 1), (100, 17)] {
            let src: Vec<u32> = (0..rows * cols).map(|i| i as u32 * 7 + 1).collect();
            let want: Vec<u32> = (0..rows * cols)
                .map(|i| src[(i % cols) * rows + i / cols])
                .collect();
            let mut dst = vec![0; rows * cols];
            transpose_into(&src, &mut dst, rows, cols);
            assert_eq!(dst, want, "{rows}x{cols}");
            let half = rows / 2;
            let mut dst = vec![0; rows * cols];
            let (lo, hi) = dst.split_at_mut(half * cols);
            transpose_rows(&src, lo, rows, cols, 0);
            transpose_rows(&src, hi, rows, cols, half);
            assert_eq!(dst, want, "{rows}x{cols} in halves");
        }
    }
}
