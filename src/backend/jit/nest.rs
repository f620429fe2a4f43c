//! Loop nests over static shapes, shared by the fused elementwise kernels and the
//! batched matmul kernel.
//!
//! A [`Nest`] is the output's axes collapsed (size-1 axes dropped, neighbours
//! merged when every operand is contiguous across them) with, per operand, a
//! stride in elements per axis (0 on a broadcast axis, NumPy rules). The
//! [`Emitter`] turns it into counted loops; the innermost axis may run a vector
//! loop (two 4-lane vectors per iteration, then one) followed by a scalar tail. At each point the [`Body`] emits
//! the work for the operands' current offsets.
//!
//! Bounds: all trip counts and strides are compile-time constants, and
//! [`Nest::new`] proves, before any code is generated, that the largest offset of
//! every operand is below its element count. With `check_bounds`, each access
//! additionally compares its offset against the buffer length at run time and
//! the kernel returns `STATUS_OUT_OF_BOUNDS` instead of touching memory.

mod emit;

use super::codegen::internal;
use crate::diag::Diag;

pub(crate) use emit::{Body, Emitter};

/// A collapsed loop nest: axis sizes and, per operand, strides in elements.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Nest {
    pub(crate) dims: Vec<usize>,
    /// One row per operand (leaves, then the output).
    pub(crate) strides: Vec<Vec<usize>>,
}

impl Nest {
    /// The nest of `out` with operands of shapes `operands` (NumPy broadcasting,
    /// aligned from the right), collapsed, with the bounds proof.
    pub(crate) fn new(out: &[usize], operands: &[&[usize]]) -> Result<Nest, Diag> {
        let strides = broadcast_strides(out, operands)?;
        let (dims, rows) = collapse(out, &strides);
        let nest = Nest {
            dims,
            strides: rows,
        };
        nest.prove(operands)?;
        Ok(nest)
    }

    /// The bounds proof: for a non-empty nest, every operand's largest offset
    /// `sum((d - 1) * stride)` is below its element count.
    pub(crate) fn prove(&self, operands: &[&[usize]]) -> Result<(), Diag> {
        if self.dims.contains(&0) {
            return Ok(());
        }
        for (row, shape) in self.strides.iter().zip(operands) {
            let len: usize = shape.iter().product();
            let max = self.dims.iter().zip(row).try_fold(0usize, |acc, (&d, &s)| {
                acc.checked_add((d - 1).checked_mul(s)?)
            });
            match max {
                Some(m) if m < len => {}
                _ => {
                    return Err(internal(format!(
                        "bounds proof failed: offset {max:?} in a buffer of {len}"
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Per operand, its stride in elements on each axis of `out` (NumPy
/// broadcasting aligned from the right; 0 on a broadcast axis).
pub(crate) fn broadcast_strides(
    out: &[usize],
    operands: &[&[usize]],
) -> Result<Vec<Vec<usize>>, Diag> {
    let rank = out.len();
    let mut strides = Vec::with_capacity(operands.len());
    for shape in operands {
        if shape.len() > rank {
            return Err(internal(format!(
                "operand {shape:?} has more axes than {out:?}"
            )));
        }
        let lead = rank - shape.len();
        let mut row = vec![0usize; rank];
        let mut step = 1usize;
        for k in (0..shape.len()).rev() {
            let d = shape[k];
            if d != 1 && d != out[lead + k] {
                return Err(internal(format!("{shape:?} does not broadcast to {out:?}")));
            }
            row[lead + k] = if d == 1 { 0 } else { step };
            step = step.saturating_mul(d);
        }
        strides.push(row);
    }
    Ok(strides)
}

/// Drops size-1 axes of `dims`, then merges axis j into j+1 when every
/// operand (a row of `strides`) is contiguous across them.
pub(crate) fn collapse(dims: &[usize], strides: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut kept_dims: Vec<usize> = Vec::new();
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for (axis, &d) in dims.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let merge = !kept_dims.is_empty()
            && strides
                .iter()
                .zip(&rows)
                .all(|(row, kept)| kept.last().copied() == Some(row[axis].saturating_mul(d)));
        if merge {
            if let Some(last) = kept_dims.last_mut() {
                *last = last.saturating_mul(d);
            }
            for (row, kept) in strides.iter().zip(rows.iter_mut()) {
                if let Some(s) = kept.last_mut() {
                    *s = row[axis];
                }
            }
        } else {
            kept_dims.push(d);
            for (row, kept) in strides.iter().zip(rows.iter_mut()) {
                kept.push(row[axis]);
            }
        }
    }
    (kept_dims, rows)
}
