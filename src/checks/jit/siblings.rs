//! Sibling GEMMs: results bitwise equal across thread counts and runs, and
//! within 1e-5 of the interpreter (the pairing itself is tested in
//! `backend::jit::siblings`).

use super::no_inputs;
use super::{add, assert_results, bits, konst, values};
use crate::backend::interp;
use crate::backend::jit::siblings::tests::{backward, build, partner_at_start, transpose, F};
use crate::backend::threads::with_threads;
use crate::ir::{Graph, Op, UnaryOp};

#[test]
fn paired_products_give_the_same_bits_on_one_and_two_threads() {
    let mut g = Graph::new();
    let (fetches, _) = backward(&mut g);
    let inputs = no_inputs();
    let expected = interp::run_step(&g, &fetches, &inputs).expect("interp");
    let exe = build(&g, &fetches);
    let mut first: Option<Vec<Vec<u64>>> = None;
    let mut pooled = None;
    for step in 0..6 {
        // Alternately one and two threads (this thread only: other tests run
        // at the same time).
        let threads = 1 + step % 2;
        let got = with_threads(threads, || exe.run(&inputs)).expect("jit");
        assert_results(&expected, &got);
        let now: Vec<Vec<u64>> = got.fetched.iter().map(bits).collect();
        assert!(
            *first.get_or_insert_with(|| now.clone()) == now,
            "step {step} ({threads} threads): other bits"
        );
        exe.recycle(got.fetched);
        let n = exe.pooled_buffers();
        // The products stay in the arena (the step followed the plan's
        // pairing): only the three fetched buffers come back to the pool.
        assert!(n <= 3, "step {step}: {n} pooled buffers");
        assert_eq!(*pooled.get_or_insert(n), n, "step {step}: the pool grew");
    }
}

#[test]
fn a_paired_product_on_one_thread_has_the_bits_of_gemms_two_thread_split() {
    // 512·256·256 multiply-adds: above the size at which gemm splits a
    // product over two threads; `dh` also takes `transb`'s column split.
    let mut g = Graph::new();
    let grad = konst(&mut g, values(F, &[256, 256], 11, false));
    let h = konst(&mut g, values(F, &[256, 512], 12, false));
    let w = konst(&mut g, values(F, &[512, 256], 13, false));
    let ht = transpose(&mut g, h, &[256, 512]);
    let dw = add(&mut g, Op::MatMul, &[ht, grad], F, &[512, 256]);
    let wt = transpose(&mut g, w, &[512, 256]);
    let dh = add(&mut g, Op::MatMul, &[grad, wt], F, &[256, 512]);
    let tw = add(&mut g, Op::Unary(UnaryOp::Tanh), &[w], F, &[512, 256]);
    let inputs = no_inputs();
    let paired = build(&g, &[tw, dw, dh]);
    assert_eq!(partner_at_start(&paired, &g, dw), Some(dh));
    let together = with_threads(2, || paired.run(&inputs)).expect("jit");
    // Each alone (no partner): gemm's own two-thread split.
    for (k, alone) in [dw, dh].into_iter().enumerate() {
        let exe = build(&g, &[alone]);
        let got = with_threads(2, || exe.run(&inputs)).expect("jit");
        assert!(
            bits(&got.fetched[0]) == bits(&together.fetched[k + 1]),
            "product {k}: paired bits differ from the two-thread product"
        );
    }
    let expected = interp::run_step(&g, &[tw, dw, dh], &inputs).expect("interp");
    assert_results(&expected, &together);
}
