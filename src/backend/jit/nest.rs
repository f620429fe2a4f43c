//! Loop nests over static shapes, shared by the fused elementwise kernels and the
//! batched matmul kernel.
//!
//! A [`Nest`] is the output's axes collapsed (size-1 axes dropped, neighbours
//! merged when every operand is contiguous across them) with, per operand, a
//! stride in elements per axis (0 on a broadcast axis, NumPy rules; negative
//! for a view that walks its buffer backwards) and the offset of its first
//! element (non-zero for a strided view, see `jit/views.rs`). The
//! [`Emitter`] turns it into counted loops; the innermost axis may run a vector
//! loop (two 4-lane vectors per iteration, then one) followed by a scalar tail. At each point the [`Body`] emits
//! the work for the operands' current offsets.
//!
//! Bounds: all trip counts, strides and bases are compile-time constants, and
//! [`Nest::new`] proves, before any code is generated, that the smallest offset
//! of every operand is at least 0 and its largest below its element count. With
//! `check_bounds`, each access additionally compares its offset against 0 and
//! the buffer length at run time and the kernel returns `STATUS_OUT_OF_BOUNDS`
//! instead of touching memory.

mod emit;

use super::codegen::internal;
use crate::diag::Diag;

pub(crate) use emit::{Body, Emitter};

/// A collapsed loop nest: axis sizes and, per operand, strides in elements.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Nest {
    pub(crate) dims: Vec<usize>,
    /// One row per operand (leaves, then the output).
    pub(crate) strides: Vec<Vec<i64>>,
    /// Per operand, the offset of its element at the nest's origin.
    pub(crate) bases: Vec<i64>,
}

/// An operand of a nest: a row-major buffer of `shape` broadcast to the
/// output, or a strided view into a buffer of `len` elements.
#[derive(Clone, Debug)]
pub(crate) enum Operand<'a> {
    Dense(&'a [usize]),
    /// `dims` (broadcast to the output like a shape), the stride of each in
    /// elements of the buffer, the offset of element 0 and the buffer's length.
    View {
        dims: &'a [usize],
        strides: &'a [i64],
        base: i64,
        len: usize,
    },
}

impl Operand<'_> {
    /// The element count of the buffer the operand reads.
    pub(crate) fn len(&self) -> usize {
        match self {
            Operand::Dense(shape) => shape.iter().product(),
            Operand::View { len, .. } => *len,
        }
    }
}

impl Nest {
    /// The nest of `out` with operands of shapes `operands` (NumPy broadcasting,
    /// aligned from the right), collapsed, with the bounds proof.
    pub(crate) fn new(out: &[usize], operands: &[&[usize]]) -> Result<Nest, Diag> {
        let dense: Vec<Operand> = operands.iter().map(|s| Operand::Dense(s)).collect();
        Nest::of(out, &dense)
    }

    /// As [`Nest::new`] for operands that may be strided views.
    pub(crate) fn of(out: &[usize], operands: &[Operand]) -> Result<Nest, Diag> {
        let shapes: Vec<&[usize]> = operands
            .iter()
            .map(|o| match o {
                Operand::Dense(shape) => *shape,
                Operand::View { dims, .. } => *dims,
            })
            .collect();
        let mut strides: Vec<Vec<i64>> = broadcast_strides(out, &shapes)?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
                    .collect()
            })
            .collect();
        let mut bases = vec![0i64; operands.len()];
        for ((op, row), base) in operands.iter().zip(&mut strides).zip(&mut bases) {
            if let Operand::View {
                dims, strides: s, ..
            } = op
            {
                if s.len() != dims.len() {
                    return Err(internal("a view's strides do not match its dims"));
                }
                // A view's own strides on its non-broadcast axes.
                let lead = out.len() - dims.len();
                for (k, (&d, &st)) in dims.iter().zip(s.iter()).enumerate() {
                    row[lead + k] = if d == 1 { 0 } else { st };
                }
                *base = match op {
                    Operand::View { base, .. } => *base,
                    Operand::Dense(_) => 0,
                };
            }
        }
        let (dims, rows) = collapse(out, &strides);
        let nest = Nest {
            dims,
            strides: rows,
            bases,
        };
        let lens: Vec<usize> = operands.iter().map(Operand::len).collect();
        nest.prove(&lens)?;
        Ok(nest)
    }

    /// The bounds proof: for a non-empty nest, every operand's offsets
    /// `base + sum(i * stride)` over the nest lie in `[0, len)`: the smallest
    /// (negative strides at their last index) is at least 0 and the largest
    /// below its element count `len`.
    pub(crate) fn prove(&self, lens: &[usize]) -> Result<(), Diag> {
        if self.dims.contains(&0) {
            return Ok(());
        }
        for ((row, &len), &base) in self.strides.iter().zip(lens).zip(&self.bases) {
            let extent = |pick: fn(i128) -> bool| -> i128 {
                let terms = self.dims.iter().zip(row);
                terms
                    .map(|(&d, &s)| (d as i128 - 1) * s as i128)
                    .filter(|&t| pick(t))
                    .sum::<i128>()
                    + base as i128
            };
            let (min, max) = (extent(|t| t < 0), extent(|t| t > 0));
            if min < 0 || max >= len as i128 {
                return Err(internal(format!(
                    "bounds proof failed: offsets {min}..={max} in a buffer of {len}"
                )));
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

/// A stride type of [`collapse`]: unsigned (layouts) or signed (nests).
pub(crate) trait Stride: Copy + PartialEq {
    /// `self * d`, saturating.
    fn times(self, d: usize) -> Self;
}

impl Stride for usize {
    fn times(self, d: usize) -> Self {
        self.saturating_mul(d)
    }
}

impl Stride for i64 {
    fn times(self, d: usize) -> Self {
        self.saturating_mul(i64::try_from(d).unwrap_or(i64::MAX))
    }
}

/// Drops size-1 axes of `dims`, then merges axis j into j+1 when every
/// operand (a row of `strides`) is contiguous across them.
pub(crate) fn collapse<S: Stride>(dims: &[usize], strides: &[Vec<S>]) -> (Vec<usize>, Vec<Vec<S>>) {
    let mut kept_dims: Vec<usize> = Vec::new();
    let mut rows: Vec<Vec<S>> = vec![Vec::new(); strides.len()];
    for (axis, &d) in dims.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let merge = !kept_dims.is_empty()
            && strides
                .iter()
                .zip(&rows)
                .all(|(row, kept)| kept.last().copied() == Some(row[axis].times(d)));
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
