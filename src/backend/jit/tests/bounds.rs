//! The bounds proof and the `check_bounds` guards.

use super::super::codegen::{Jit, STATUS_OUT_OF_BOUNDS};
use super::super::fused::{self, Group};
use super::super::nest::Nest;
use super::{add, konst, values};
use crate::ir::{DType, Graph, Op, Tensor, UnaryOp};

#[test]
fn the_proof_rejects_shapes_that_do_not_broadcast() {
    assert!(Nest::new(&[4], &[&[5], &[4]]).is_err());
    assert!(Nest::new(&[4], &[&[2, 4], &[4]]).is_err());
    let nest = Nest::new(&[2, 3, 4], &[&[3, 4], &[2, 1, 4], &[2, 3, 4]]).expect("valid");
    // The first operand is contiguous across its axes, the second is not.
    assert_eq!(nest.dims, vec![2, 3, 4]);
    let flat = Nest::new(&[2, 3, 4], &[&[2, 3, 4], &[2, 3, 4]]).expect("valid");
    assert_eq!(flat.dims, vec![24]);
}

/// A deliberately wrong nest (more elements than the buffers) compiled with checks: the
/// kernel reports the first out-of-bounds access instead of making it.
#[test]
fn check_bounds_catches_an_out_of_bounds_nest() {
    for (dims, wrong_dims, lanes_note) in [(8usize, 16usize, "vector loop"), (2, 3, "scalar tail")]
    {
        let mut g = Graph::new();
        let x = konst(&mut g, values(DType::F32, &[dims], 1, false));
        let y = add(&mut g, Op::Unary(UnaryOp::Neg), &[x], DType::F32, &[dims]);
        let group = Group {
            members: vec![y],
            leaves: vec![x],
            exact: false,
            outputs: Vec::new(),
            views: Vec::new(),
        };
        let wrong = Nest {
            dims: vec![wrong_dims],
            strides: vec![vec![1], vec![1]],
            bases: vec![0, 0],
        };
        let mut jit = Jit::for_isa(crate::kernels::isa::active()).expect("jit");
        let lens = vec![dims as i64, dims as i64];
        let id = fused::compile_nest(&mut jit, &g, &group, &wrong, lens, true).expect("compiles");
        let kernel = jit.finish(&[id]).expect("finish")[0];
        let input = values(DType::F32, &[dims], 1, false);
        let mut out = Tensor::full(&input.ty(), 0.0);
        let (Tensor::F32(a), Tensor::F32(o)) = (&input, &mut out) else {
            panic!("f32")
        };
        let (a, o) = (a.as_ptr() as *mut u8, o.as_mut_ptr() as *mut u8);
        // The whole (wrong) range [0, wrong_dims).
        let args = [a, o, std::ptr::null_mut(), wrong_dims as *mut u8];
        let status = kernel.call(&args, 4).expect("call");
        assert_eq!(status, STATUS_OUT_OF_BOUNDS, "{lanes_note}");
    }
}

/// A range outside the nest (or inverted) is refused before any access, with
/// or without `check_bounds`.
#[test]
fn a_bad_range_is_refused() {
    for check in [false, true] {
        let mut g = Graph::new();
        let x = konst(&mut g, values(DType::F32, &[8], 1, false));
        let y = add(&mut g, Op::Unary(UnaryOp::Neg), &[x], DType::F32, &[8]);
        let group = Group {
            members: vec![y],
            leaves: vec![x],
            exact: false,
            outputs: Vec::new(),
            views: Vec::new(),
        };
        let mut jit = Jit::for_isa(crate::kernels::isa::active()).expect("jit");
        let (id, split) = fused::compile(&mut jit, &g, &group, check).expect("compiles");
        assert_eq!(split, (8, 1));
        let kernel = jit.finish(&[id]).expect("finish")[0];
        let input = values(DType::F32, &[8], 1, false);
        let mut out = Tensor::full(&input.ty(), 0.0);
        let (Tensor::F32(a), Tensor::F32(o)) = (&input, &mut out) else {
            panic!("f32")
        };
        let (a, o) = (a.as_ptr() as *mut u8, o.as_mut_ptr() as *mut u8);
        for (lo, hi, ok) in [
            (0usize, 8usize, true),
            (0, 9, false),
            (5, 4, false),
            (4, 8, true),
        ] {
            let args = [a, o, lo as *mut u8, hi as *mut u8];
            let status = kernel.call(&args, 4).expect("call");
            assert_eq!(status == 0, ok, "range [{lo}, {hi}) check {check}");
        }
    }
}

/// The bounds proof covers a view's offsets: a base or stride reaching
/// outside its buffer is refused before any code exists.
#[test]
fn the_proof_covers_view_offsets() {
    use super::super::nest::Operand;
    // A [3, 4] view of a buffer of 14 elements.
    let view = |strides: &'static [i64], base: i64| Operand::View {
        dims: &[3, 4],
        strides,
        base,
        len: 14,
    };
    let out = Operand::Dense(&[3, 4]);
    let nest = |v| Nest::of(&[3, 4], &[v, out.clone()]);
    // Offsets 0..=13 forwards, and backwards along rows (3 - j + 5 i).
    assert!(nest(view(&[5, 1], 0)).is_ok());
    assert!(nest(view(&[5, -1], 3)).is_ok());
    // One past the end, one before the start, a stride too long.
    assert!(nest(view(&[5, 1], 1)).is_err());
    assert!(nest(view(&[5, -1], 2)).is_err());
    assert!(nest(view(&[6, 1], 0)).is_err());
    assert!(nest(view(&[-5, 1], 9)).is_err());
    assert!(nest(view(&[-5, 1], 10)).is_ok());
}
