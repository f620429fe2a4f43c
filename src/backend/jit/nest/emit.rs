//! Code generation for a [`Nest`]: counted loops with a vector innermost loop
//! and a scalar tail, and the `check_bounds` run-time checks.

use super::super::blocks;
use super::super::codegen::{STATUS_OK, STATUS_OUT_OF_BOUNDS};
use super::Nest;
use crate::diag::Diag;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, MemFlagsData, Type, Value};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::FunctionBuilder;

/// What a kernel does at one point of its nest.
pub(crate) trait Body {
    /// Emits the work for `lanes` consecutive innermost elements at `offsets`.
    fn element(&mut self, e: &mut Emitter, offsets: &[Value], lanes: u32) -> Result<(), Diag>;

    /// Whether the innermost loop must run in blocks of at most
    /// [`blocks::LEN`] elements, each started by [`Body::prepare`].
    fn blocks(&self) -> bool {
        false
    }

    /// Emits the work at the start of a block of `n` innermost elements at
    /// `offsets` (see `jit/blocks.rs`).
    fn prepare(&mut self, _e: &mut Emitter, _offsets: &[Value], _n: Value) -> Result<(), Diag> {
        Ok(())
    }
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
        let offsets = (0..self.lens.len())
            .map(|k| {
                let base = nest.bases.get(k).copied().unwrap_or(0);
                self.b.ins().iconst(types::I64, base)
            })
            .collect();
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
        if body.blocks() {
            // Full blocks, then the last shorter one (maybe empty), each
            // prepared first.
            let len = blocks::LEN as i64;
            let start = self.counted(start, end, len, &mut |e, i| {
                let stop = e.b.ins().iadd_imm_s(i, len);
                let n = e.b.ins().iconst(types::I64, len);
                e.innermost(nest, &mut *body, axis, &offsets, (i, stop, n), vector)
            })?;
            let n = self.b.ins().isub(end, start);
            return self.innermost(nest, body, axis, &offsets, (start, end, n), vector);
        }
        self.vectors(nest, body, axis, &offsets, (start, end), vector)
    }

    /// One block `[start, end)` of `n` elements of the innermost axis: its
    /// preparation, then its vector (if `vector`) and scalar loops.
    fn innermost(
        &mut self,
        nest: &Nest,
        body: &mut dyn Body,
        axis: usize,
        offsets: &[Value],
        (start, end, n): (Value, Value, Value),
        vector: bool,
    ) -> Result<(), Diag> {
        let offs = self.advance(nest, offsets, axis, start);
        body.prepare(self, &offs, n)?;
        self.vectors(nest, body, axis, offsets, (start, end), vector)
    }

    /// The innermost axis over `[start, end)`: a 4-lane loop (if `vector`),
    /// two vectors per iteration when unrolled, then a scalar tail.
    fn vectors(
        &mut self,
        nest: &Nest,
        body: &mut dyn Body,
        axis: usize,
        offsets: &[Value],
        (start, end): (Value, Value),
        vector: bool,
    ) -> Result<(), Diag> {
        let mut start = start;
        if vector && self.unroll {
            // Two vectors per iteration keep more loads in flight (a 4-lane loop
            // alone reaches less of the memory bandwidth).
            start = self.counted(start, end, 8, &mut |e, i| {
                let offs = e.advance(nest, offsets, axis, i);
                body.element(e, &offs, 4)?;
                let i4 = e.b.ins().iadd_imm_s(i, 4);
                let offs = e.advance(nest, offsets, axis, i4);
                body.element(e, &offs, 4)
            })?;
        }
        if vector {
            start = self.counted(start, end, 4, &mut |e, i| {
                let offs = e.advance(nest, offsets, axis, i);
                body.element(e, &offs, 4)
            })?;
        }
        self.counted(start, end, 1, &mut |e, i| {
            let offs = e.advance(nest, offsets, axis, i);
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
                    let scaled = self.b.ins().imul_imm_s(i, s);
                    self.b.ins().iadd(offsets[k], scaled)
                }
            })
            .collect()
    }

    /// Returns `STATUS_OUT_OF_BOUNDS` when the offset `off` is negative.
    fn fail_if_negative(&mut self, off: Value) {
        let bad = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, off, 0);
        self.fail_if(bad);
    }

    /// The pointer type.
    pub(crate) fn ptr(&self) -> Type {
        self.ptr
    }

    /// As [`Emitter::address`] for a run-time count `n` (an `i64`).
    pub(crate) fn address_n(&mut self, k: usize, off: Value, n: Value, size: i64) -> Value {
        if self.check {
            let last = self.b.ins().iadd(off, n);
            let bad = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, last, self.lens[k]);
            self.fail_if(bad);
            self.fail_if_negative(off);
        }
        let check = std::mem::replace(&mut self.check, false);
        let addr = self.address(k, off, 0, size);
        self.check = check;
        addr
    }

    /// The address of `count` elements of `size` bytes of operand `k` at element
    /// offset `off`, after the optional run-time bound check.
    pub(crate) fn address(&mut self, k: usize, off: Value, count: i64, size: i64) -> Value {
        if self.check {
            // In bounds iff 0 <= off and off + count <= len (a view walking
            // its buffer backwards has decreasing offsets).
            let last = self.b.ins().iadd_imm_s(off, count);
            let bad = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThan, last, self.lens[k]);
            self.fail_if(bad);
            self.fail_if_negative(off);
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
