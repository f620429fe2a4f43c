//! Kernel calls: operands (tensors or arena slots), their checks, and the
//! split of a call among threads.

use super::arena::{Block, ALIGN};
use super::codegen::{Kernel, STATUS_OK};
use super::exec::at;
use super::parallel::call_all;
use super::tensors::{data_ptr, has_type, out_ptr, same_type, Val};
use crate::diag::Diag;
use crate::ir::{Node, Tensor, TensorType};

pub(super) fn bytes_of(ty: &TensorType) -> usize {
    ty.shape.numel() * ty.dtype.size_bytes()
}

/// The arena during a kernel call: its buffer and whether the step holds it
/// (then outputs with a slot go there).
pub(super) struct Place<'b> {
    pub(super) buf: Option<&'b mut [Block]>,
    pub(super) matched: bool,
}

/// The arena's address and length in bytes.
pub(super) type Base = Option<(*mut u8, usize)>;

pub(super) fn base(buf: Option<&mut [Block]>) -> Base {
    buf.map(|b| (b.as_mut_ptr() as *mut u8, b.len() * ALIGN))
}

/// The address of the slot of `bytes` at `offset`, if it lies in the arena.
pub(super) fn slot_ptr(base: Base, offset: usize, bytes: usize) -> Option<*mut u8> {
    let (p, len) = base?;
    let inside = offset.is_multiple_of(ALIGN) && offset.checked_add(bytes)? <= len;
    inside.then(|| p.wrapping_add(offset))
}

/// An operand of a kernel call.
#[derive(Clone, Copy)]
pub(super) enum Arg<'a> {
    Tensor(&'a Tensor),
    /// The output buffer itself (an in-place write: `inplace.rs`).
    Out,
    /// An arena slot: its address and bytes.
    Slot(*mut u8, usize),
}

impl<'a> Arg<'a> {
    /// The operand for memo value `v` (`None`: a slot outside the arena).
    pub(super) fn of(v: &'a Val, base: Base) -> Option<Arg<'a>> {
        match v {
            Val::Arena { offset, bytes } => {
                Some(Arg::Slot(slot_ptr(base, *offset, *bytes)?, *bytes))
            }
            other => Some(Arg::Tensor(other)),
        }
    }
}

/// Runs a kernel on `args` into the arena slot at `out` of `bytes` (the
/// node's size, every byte written), once per slot list of `ranges`.
pub(super) fn run_into<R: AsRef<[usize]>>(
    kernel: &Kernel,
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    out: *mut u8,
    bytes: usize,
    ranges: &[R],
) -> Result<(), Diag> {
    if bytes != bytes_of(&node.ty) {
        return Err(at(node, "output slot of the wrong size"));
    }
    if bytes == 0 {
        return Ok(());
    }
    call(kernel, node, args, types, &[out], ranges)
}

/// Runs a kernel on `args` (checked against `types`) into `out` (of the
/// node's type, every element written), once per slot list of `ranges`. An
/// [`Arg::Out`] argument is `out` itself (an in-place write: `inplace.rs`).
pub(super) fn run_kernel<R: AsRef<[usize]>>(
    kernel: &Kernel,
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    mut out: Tensor,
    ranges: &[R],
) -> Result<Tensor, Diag> {
    if out.is_empty() {
        return Ok(out);
    }
    if !has_type(&out, &node.ty) {
        return Err(at(node, "output buffer of the wrong type"));
    }
    let ptr = out_ptr(&mut out).ok_or_else(|| at(node, "output is not contiguous"))?;
    call(kernel, node, args, types, &[ptr], ranges)?;
    Ok(out)
}

/// Pointer lists up to this long are built on the stack (one range: the
/// common case of a small kernel, called once per step with no allocation).
const STACK_ARGS: usize = 32;

/// Checks `args` against `types` and calls `kernel` on them and `out` once
/// per slot list of `ranges` (in parallel when there are several). An
/// [`Arg::Out`] argument reads `outs[0]`, which must then have its type.
pub(super) fn call<R: AsRef<[usize]>>(
    kernel: &Kernel,
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    outs: &[*mut u8],
    ranges: &[R],
) -> Result<(), Diag> {
    let fixed = args.len() + outs.len();
    let expected = fixed + ranges.first().map_or(0, |r| r.as_ref().len());
    let status = match ranges {
        [slots] if expected <= STACK_ARGS => {
            let mut list = [std::ptr::null_mut::<u8>(); STACK_ARGS];
            let mut n = 0;
            operand_ptrs(node, args, types, outs, |p| {
                list[n] = p;
                n += 1;
            })?;
            for &s in slots.as_ref() {
                list[n] = s as *mut u8;
                n += 1;
            }
            kernel.call(&list[..n], expected)?
        }
        _ => {
            let mut ptrs = Vec::with_capacity(expected);
            operand_ptrs(node, args, types, outs, |p| ptrs.push(p))?;
            let calls: Vec<Vec<*mut u8>> = ranges
                .iter()
                .map(|slots| {
                    let mut list = ptrs.clone();
                    list.extend(slots.as_ref().iter().map(|&s| s as *mut u8));
                    list
                })
                .collect();
            call_all(kernel, &calls, expected)?
        }
    };
    if status != STATUS_OK {
        return Err(at(
            node,
            format!("kernel failed a bounds check (status {status})"),
        ));
    }
    Ok(())
}

/// The operands' addresses (checked against `types`), then `outs`, in order.
fn operand_ptrs(
    node: &Node,
    args: &[Arg],
    types: &[&TensorType],
    outs: &[*mut u8],
    mut push: impl FnMut(*mut u8),
) -> Result<(), Diag> {
    for (k, (arg, ty)) in args.iter().zip(types).enumerate() {
        let arg = match arg {
            Arg::Tensor(t) => t,
            Arg::Out => {
                if !same_type(ty, &node.ty) || outs.len() != 1 {
                    return Err(at(node, format!("operand {k} cannot be the output")));
                }
                push(outs[0]);
                continue;
            }
            // A slot is planned for its node's type: its size must match.
            Arg::Slot(ptr, bytes) => {
                if *bytes != bytes_of(ty) {
                    return Err(at(node, format!("operand {k}'s slot is not a {ty}")));
                }
                push(*ptr);
                continue;
            }
        };
        // The kernel was compiled for exactly this dtype and shape.
        if !has_type(arg, ty) {
            return Err(at(
                node,
                format!("operand {k} is {} but the kernel takes {ty}", arg.ty()),
            ));
        }
        push(data_ptr(arg).ok_or_else(|| at(node, format!("operand {k} is not contiguous")))?);
    }
    outs.iter().for_each(|&p| push(p));
    Ok(())
}
