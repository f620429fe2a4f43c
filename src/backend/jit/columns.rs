//! Column mode of fused reductions: reducing leading axes (`sum(x, axis=0)`
//! of `[N, M]`, a bias gradient; axes 0..2 of `[B, H, W, C]`).
//!
//! The reduced axes collapse to one axis of `R` rows; the last kept axis
//! (`C` columns, stride 0 or 1 for every operand) is walked in lanes. A
//! *task* is one outer kept index and one block of [`ROWS`] rows: for each
//! chunk of 16 (then 4) columns it accumulates the block's rows in `f32x4`
//! vectors (at most [`ROWS`] terms per lane, as the row mode's 32) and stores
//! each lane's sum as an `f64` partial; a remaining column repeats one lane's
//! operations on scalars (so every column's partial is computed alike, wherever
//! it falls relative to the vector width); groups that do not vectorize
//! accumulate every column in `f64`. Partials are laid out per output (`(o·C + c)
//! · blocks + block`), so `combine` sums each output's blocks pairwise in a
//! fixed order, whatever the split of tasks among threads.

use super::codegen::internal;
use super::nest::Emitter;
use super::reduce::{Gen, Layout};
use crate::diag::Diag;
use crate::ir::DType;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};

/// Reduced rows per partial.
pub(crate) const ROWS: usize = 32;

/// The column-mode layout, when it applies: one collapsed reduced axis, kept
/// axes, and a last kept axis of at least 4 elements with stride 0 or 1 for
/// every operand and 1 for one (so lanes are contiguous loads).
pub(crate) fn layout(
    kept: &[usize],
    kept_strides: &[Vec<usize>],
    red: &[usize],
    red_strides: &[Vec<usize>],
) -> Option<Layout> {
    let (&[r], Some(&c)) = (red, kept.last()) else {
        return None;
    };
    let last = |s: &Vec<usize>| s.last().copied();
    let unit = kept_strides.iter().all(|s| matches!(last(s), Some(0 | 1)))
        && kept_strides.iter().any(|s| last(s) == Some(1));
    if c < 4 || !unit {
        return None;
    }
    let outer = &kept[..kept.len() - 1];
    let outputs: usize = kept.iter().product();
    let row_blocks = r.div_ceil(ROWS);
    let tasks = outer.iter().product::<usize>() * row_blocks;
    let strides = kept_strides
        .iter()
        .zip(red_strides)
        .map(|(k, rs)| {
            let (c_stride, o) = k.split_last()?;
            Some(o.iter().chain(rs).chain([c_stride]).copied().collect())
        })
        .collect::<Option<Vec<Vec<usize>>>>()?;
    Some(Layout {
        row_dims: outer.iter().copied().chain([r]).collect(),
        bases: vec![0; strides.len()],
        strides,
        inner: c,
        rows: tasks,
        blocks: 1,
        outputs,
        count: r,
        columns: Some(row_blocks),
        partials: outputs * row_blocks,
        per_output: row_blocks,
        work: outputs * r,
    })
}

/// Emits the body of a column-mode kernel (slots: `task_lo, task_hi, 0, 1`).
pub(crate) fn emit(
    e: &mut Emitter,
    gen: &Gen,
    l: &Layout,
    row_blocks: usize,
    partials: usize,
    slots: usize,
) -> Result<(), Diag> {
    let (task_lo, task_hi) = e.range(slots, l.rows as i64);
    e.range(slots + 2, l.blocks as i64);
    let nest = l.nest();
    let r_axis = l
        .row_dims
        .len()
        .checked_sub(1)
        .ok_or_else(|| internal("column layout without rows"))?;
    let (c_axis, r, c) = (r_axis + 1, l.row_dims[r_axis], l.inner as i64);
    let rb = row_blocks as i64;
    e.counted(task_lo, task_hi, 1, &mut |e, task| {
        let outer = e.b.ins().udiv_imm_u(task, rb);
        let block = e.b.ins().urem_imm_u(task, rb);
        // Offsets of the outer index: its digits times the strides.
        let zero = e.b.ins().iconst(types::I64, 0);
        let mut offsets: Vec<_> = (l.bases.iter())
            .map(|&b| e.b.ins().iconst(types::I64, b as i64))
            .collect();
        let mut below = 1i64;
        for axis in (0..r_axis).rev() {
            let d = l.row_dims[axis] as i64;
            let q = e.b.ins().udiv_imm_u(outer, below);
            let digit = e.b.ins().urem_imm_u(q, d);
            offsets = e.advance(&nest, &offsets, axis, digit);
            below *= d;
        }
        let first = e.b.ins().imul_imm_s(block, ROWS as i64);
        let offsets = e.advance(&nest, &offsets, r_axis, first);
        // Rows in this block: min(ROWS, r - first).
        let left = e.b.ins().iconst(types::I64, r as i64);
        let left = e.b.ins().isub(left, first);
        let full = e.b.ins().iconst(types::I64, ROWS as i64);
        let short = e.b.ins().icmp(IntCC::SignedLessThan, left, full);
        let count = e.b.ins().select(short, left, full);
        // Partial of column 0 of this task: (outer·C)·blocks + block.
        let base = e.b.ins().imul_imm_s(outer, c * rb);
        let base = e.b.ins().iadd(base, block);
        let cols = Columns {
            gen,
            nest: &nest,
            r_axis,
            c_axis,
            row_blocks: rb,
            partials,
        };
        let end = e.b.ins().iconst(types::I64, c);
        let mut start = zero;
        if gen.vector {
            for width in [16, 4] {
                start = e.counted(start, end, width, &mut |e, col| {
                    cols.vectors(e, &offsets, count, base, col, (width / 4) as usize)
                })?;
            }
        }
        e.counted(start, end, 1, &mut |e, col| {
            cols.scalar(e, &offsets, count, base, col)
        })?;
        Ok(())
    })?;
    Ok(())
}

/// One task's column chunks.
struct Columns<'a> {
    gen: &'a Gen<'a>,
    nest: &'a super::nest::Nest,
    r_axis: usize,
    c_axis: usize,
    row_blocks: i64,
    /// The operand index of the partials.
    partials: usize,
}

impl Columns<'_> {
    /// Columns `col .. col + 4·n` on `n` vector accumulators.
    fn vectors(
        &self,
        e: &mut Emitter,
        offsets: &[Value],
        count: Value,
        base: Value,
        col: Value,
        n: usize,
    ) -> Result<(), Diag> {
        let gen = self.gen;
        let at_col = e.advance(self.nest, offsets, self.c_axis, col);
        let id = e.b.ins().f32const(gen.identity() as f32);
        let splat = e.b.ins().splat(types::F32X4, id);
        let accs: Vec<_> = (0..n)
            .map(|_| {
                let var = e.b.declare_var(types::F32X4);
                e.b.def_var(var, splat);
                var
            })
            .collect();
        let zero = e.b.ins().iconst(types::I64, 0);
        e.counted(zero, count, 1, &mut |e, row| {
            let at_row = e.advance(self.nest, &at_col, self.r_axis, row);
            for (v, &var) in accs.iter().enumerate() {
                let lane0 = e.b.ins().iconst(types::I64, 4 * v as i64);
                let offs = e.advance(self.nest, &at_row, self.c_axis, lane0);
                let x = gen.value(e, &offs, 4)?;
                let a = e.b.use_var(var);
                let a = gen.combine(&mut e.b, 4, DType::F32, a, x)?;
                e.b.def_var(var, a);
            }
            Ok(())
        })?;
        for (v, &var) in accs.iter().enumerate() {
            let acc = e.b.use_var(var);
            for lane in 0..4u8 {
                let x = e.b.ins().extractlane(acc, lane);
                let x = e.b.ins().fpromote(types::F64, x);
                let column = e.b.ins().iadd_imm_s(col, 4 * v as i64 + lane as i64);
                let slot = e.b.ins().imul_imm_s(column, self.row_blocks);
                let slot = e.b.ins().iadd(base, slot);
                gen.store(e, self.partials, slot, x);
            }
        }
        Ok(())
    }

    /// Column `col` on its own. On `f32x4` groups it does exactly what one
    /// lane of [`Self::vectors`] does (`f32` accumulation from the identity,
    /// row by row, promoted at the end), so a leftover column's partial has
    /// the bits it would have in a vector; other groups accumulate in `f64`.
    fn scalar(
        &self,
        e: &mut Emitter,
        offsets: &[Value],
        count: Value,
        base: Value,
        col: Value,
    ) -> Result<(), Diag> {
        let gen = self.gen;
        let at_col = e.advance(self.nest, offsets, self.c_axis, col);
        let (ty, dtype) = if gen.vector {
            (types::F32, DType::F32)
        } else {
            (types::F64, DType::F64)
        };
        let id = if gen.vector {
            e.b.ins().f32const(gen.identity() as f32)
        } else {
            e.b.ins().f64const(gen.identity())
        };
        let acc = e.b.declare_var(ty);
        e.b.def_var(acc, id);
        let zero = e.b.ins().iconst(types::I64, 0);
        e.counted(zero, count, 1, &mut |e, row| {
            let offs = e.advance(self.nest, &at_col, self.r_axis, row);
            let mut x = gen.value(e, &offs, 1)?;
            if gen.dtype == DType::F32 && !gen.vector {
                x = e.b.ins().fpromote(types::F64, x);
            }
            let a = e.b.use_var(acc);
            let a = gen.combine(&mut e.b, 1, dtype, a, x)?;
            e.b.def_var(acc, a);
            Ok(())
        })?;
        let slot = e.b.ins().imul_imm_s(col, self.row_blocks);
        let slot = e.b.ins().iadd(base, slot);
        let mut total = e.b.use_var(acc);
        if gen.vector {
            total = e.b.ins().fpromote(types::F64, total);
        }
        gen.store(e, self.partials, slot, total);
        Ok(())
    }
}
