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
//! the kernel returns [`STATUS_OUT_OF_BOUNDS`] instead of touching memory.

use super::codegen::{internal, STATUS_OK, STATUS_OUT_OF_BOUNDS};
use crate::syntax::Diag;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, MemFlagsData, Type, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::FunctionBuilder;

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

/// What a kernel does at one point of its nest.
pub(crate) trait Body {
    /// Emits the work for `lanes` consecutive innermost elements at `offsets`.
    fn element(&mut self, e: &mut Emitter, offsets: &[Value], lanes: u32) -> Result<(), Diag>;
}

/// Emits a loop nest into a kernel `(args) -> status`.
pub(crate) struct Emitter<'f> {
    pub(crate) b: FunctionBuilder<'f>,
    /// The kernel's argument array.
    args: Value,
    /// Base pointer of each operand.
    bases: Vec<Value>,
    /// Element count of each operand (for `check_bounds`).
    lens: Vec<i64>,
    ptr: Type,
    check: bool,
    /// The block that returns `STATUS_OUT_OF_BOUNDS`, created on first use.
    fail: Option<Block>,
    /// The target's frontend configuration (for `finalize`).
    config: TargetFrontendConfig,
    /// Whether the innermost vector loop runs two vectors per iteration (the
    /// default; off for long bodies, see [`super::fused::heavy`]).
    pub(crate) unroll: bool,
}

impl<'f> Emitter<'f> {
    /// Starts the kernel: the entry block takes `args`, from which the base
    /// pointer of each of the operands (of `lens` elements each) is loaded.
    pub(crate) fn new(
        mut b: FunctionBuilder<'f>,
        config: TargetFrontendConfig,
        lens: Vec<i64>,
        check: bool,
    ) -> Self {
        let ptr = config.pointer_type();
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        // The entry block has no predecessors.
        b.seal_block(entry);
        let args = b.block_params(entry)[0];
        let bytes = ptr.bytes() as i32;
        let bases = (0..lens.len())
            .map(|k| {
                b.ins()
                    .load(ptr, MemFlagsData::trusted(), args, k as i32 * bytes)
            })
            .collect();
        Emitter {
            b,
            args,
            bases,
            lens,
            ptr,
            check,
            fail: None,
            config,
            unroll: true,
        }
    }

    /// Argument slot `k` (after the operand pointers) as an `i64`: the work
    /// ranges a caller passes so that threads can split a kernel.
    pub(crate) fn slot(&mut self, k: usize) -> Value {
        let bytes = self.ptr.bytes() as i32;
        let v = self.b.ins().load(
            self.ptr,
            MemFlagsData::trusted(),
            self.args,
            k as i32 * bytes,
        );
        if self.ptr == types::I64 {
            v
        } else {
            self.b.ins().uextend(types::I64, v)
        }
    }

    /// Returns `STATUS_OUT_OF_BOUNDS` when `bad` (an `i8` condition) holds.
    pub(crate) fn fail_if(&mut self, bad: Value) {
        let fail = match self.fail {
            Some(block) => block,
            None => {
                let block = self.b.create_block();
                self.fail = Some(block);
                block
            }
        };
        let cont = self.b.create_block();
        self.b.ins().brif(bad, fail, &[], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Reads the range `[lo, hi)` from slots `k`, `k + 1` and fails (always, not
    /// only with `check_bounds`) unless `lo <= hi <= limit`.
    pub(crate) fn range(&mut self, k: usize, limit: i64) -> (Value, Value) {
        let lo = self.slot(k);
        let hi = self.slot(k + 1);
        let over = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, hi, limit);
        let inverted = self.b.ins().icmp(IntCC::UnsignedGreaterThan, lo, hi);
        let bad = self.b.ins().bor(over, inverted);
        self.fail_if(bad);
        (lo, hi)
    }

    /// Emits the whole nest, then the return. With `range`, the outermost axis
    /// runs over `[lo, hi)` from the argument slots after the operands.
    pub(crate) fn run(
        mut self,
        nest: &Nest,
        body: &mut dyn Body,
        vector: bool,
        range: bool,
    ) -> Result<(), Diag> {
        let zero = self.b.ins().iconst(types::I64, 0);
        let offsets = vec![zero; self.lens.len()];
        let bounds = match (range, nest.dims.first()) {
            (true, Some(&d)) => Some(self.range(self.lens.len(), d as i64)),
            _ => None,
        };
        self.outer(nest, body, 0, offsets, vector, bounds)?;
        self.finish();
        Ok(())
    }

    /// Emits the return of `STATUS_OK` (and the failure block), seals every
    /// block and finalizes the function.
    pub(crate) fn finish(mut self) {
        let ok = self.b.ins().iconst(types::I32, STATUS_OK as i64);
        self.b.ins().return_(&[ok]);
        if let Some(fail) = self.fail {
            self.b.switch_to_block(fail);
            let code = self.b.ins().iconst(types::I32, STATUS_OUT_OF_BOUNDS as i64);
            self.b.ins().return_(&[code]);
        }
        // Loop blocks were sealed as their predecessors became known; the failure
        // block gains one predecessor per checked access, so it is sealed here.
        self.b.seal_all_blocks();
        self.b.finalize(self.config);
    }

    /// A counted loop `i = start; while i + step <= end { body(i); i += step }`;
    /// returns the header's `i` (in the exit block: the first `i` not run).
    pub(crate) fn counted(
        &mut self,
        start: Value,
        end: Value,
        step: i64,
        body: &mut dyn FnMut(&mut Self, Value) -> Result<(), Diag>,
    ) -> Result<Value, Diag> {
        let header = self.b.create_block();
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(header, types::I64);
        self.b.ins().jump(header, &[start.into()]);
        // Header: test the counter; sealed once the back edge exists.
        self.b.switch_to_block(header);
        let i = self.b.block_params(header)[0];
        let next = self.b.ins().iadd_imm_s(i, step);
        let more = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, next, end);
        self.b.ins().brif(more, body_block, &[], exit, &[]);
        // Body: its only predecessor is the header.
        self.b.switch_to_block(body_block);
        self.b.seal_block(body_block);
        body(self, i)?;
        let next = self.b.ins().iadd_imm_s(i, step);
        self.b.ins().jump(header, &[next.into()]);
        self.b.seal_block(header);
        // Exit: its only predecessor is the header.
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        Ok(i)
    }

    /// Loops over axis `axis` and those inside it, from operand offsets
    /// `offsets`; `bounds` replaces `[0, dims[axis])` when given.
    fn outer(
        &mut self,
        nest: &Nest,
        body: &mut dyn Body,
        axis: usize,
        offsets: Vec<Value>,
        vector: bool,
        bounds: Option<(Value, Value)>,
    ) -> Result<(), Diag> {
        if nest.dims.is_empty() {
            // A scalar (or all-size-1) output: one element.
            return body.element(self, &offsets, 1);
        }
        let (start, end) = match bounds {
            Some(b) => b,
            None => (
                self.b.ins().iconst(types::I64, 0),
                self.b.ins().iconst(types::I64, nest.dims[axis] as i64),
            ),
        };
        if axis + 1 < nest.dims.len() {
            self.counted(start, end, 1, &mut |e, i| {
                let offs = e.advance(nest, &offsets, axis, i);
                e.outer(nest, &mut *body, axis + 1, offs, vector, None)
            })?;
            return Ok(());
        }
        // The innermost axis: a 4-lane loop (if allowed), then a scalar tail.
        let mut start = start;
        if vector && self.unroll {
            // Two vectors per iteration keep more loads in flight (a 4-lane loop
            // alone reaches less of the memory bandwidth).
            start = self.counted(start, end, 8, &mut |e, i| {
                let offs = e.advance(nest, &offsets, axis, i);
                body.element(e, &offs, 4)?;
                let i4 = e.b.ins().iadd_imm_s(i, 4);
                let offs = e.advance(nest, &offsets, axis, i4);
                body.element(e, &offs, 4)
            })?;
        }
        if vector {
            start = self.counted(start, end, 4, &mut |e, i| {
                let offs = e.advance(nest, &offsets, axis, i);
                body.element(e, &offs, 4)
            })?;
        }
        self.counted(start, end, 1, &mut |e, i| {
            let offs = e.advance(nest, &offsets, axis, i);
            body.element(e, &offs, 1)
        })?;
        Ok(())
    }

    /// `offsets[k] + i * stride[k][axis]` for every operand.
    pub(crate) fn advance(
        &mut self,
        nest: &Nest,
        offsets: &[Value],
        axis: usize,
        i: Value,
    ) -> Vec<Value> {
        (0..offsets.len())
            .map(|k| match nest.strides[k][axis] {
                0 => offsets[k],
                1 => self.b.ins().iadd(offsets[k], i),
                s => {
                    let scaled = self.b.ins().imul_imm_s(i, s as i64);
                    self.b.ins().iadd(offsets[k], scaled)
                }
            })
            .collect()
    }

    /// The address of `count` elements of `size` bytes of operand `k` at element
    /// offset `off`, after the optional run-time bound check.
    pub(crate) fn address(&mut self, k: usize, off: Value, count: i64, size: i64) -> Value {
        if self.check {
            // In bounds iff off + count <= len (offsets are never negative).
            let last = self.b.ins().iadd_imm_s(off, count);
            let bad = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, last, self.lens[k]);
            self.fail_if(bad);
        }
        let bytes = self.b.ins().imul_imm_s(off, size);
        let bytes = if self.ptr == types::I64 {
            bytes
        } else {
            self.b.ins().ireduce(self.ptr, bytes)
        };
        self.b.ins().iadd(self.bases[k], bytes)
    }
}
