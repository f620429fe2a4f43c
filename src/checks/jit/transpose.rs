//! Transposes read in place by matmul: gemm gives bitwise the materialised
//! copy's result (above the sizes where it picks stride-dependent kernels),
//! the JIT's product is bitwise the interpreter's, and the transpose is not
//! stored unless something else needs it.

use super::no_inputs;
use super::{add, agree, konst, values};
use crate::backend::interp;
use crate::backend::jit::gemm::strides_keep_order;
use crate::backend::jit::plan::Step;
use crate::backend::jit::{compile, Options};
use crate::ir::{DType, Graph, NodeId, Op, Tensor};
use crate::kernels::gemm::matmul_into;
use ndarray::Array2;

fn matrix(r: usize, c: usize, seed: u64) -> Array2<f32> {
    let v = values(DType::F32, &[r, c], seed, false).to_f64_vec();
    Array2::from_shape_vec((r, c), v.into_iter().map(|x| x as f32).collect())
        .unwrap_or_else(|_| panic!("shape {r}x{c}"))
}

/// `a @ b` with `a` (if `ta`) and `b` (if `tb`) given as transposed views of
/// stored matrices, and the same product of standard-layout copies.
fn both(m: usize, k: usize, n: usize, ta: bool, tb: bool) -> (Vec<u32>, Vec<u32>) {
    let sa = if ta { matrix(k, m, 1) } else { matrix(m, k, 1) };
    let sb = if tb { matrix(n, k, 2) } else { matrix(k, n, 2) };
    let a = if ta { sa.t() } else { sa.view() };
    let b = if tb { sb.t() } else { sb.view() };
    // Standard-layout copies (`to_owned` would keep the transposed layout).
    let copy = |x: ndarray::ArrayView2<f32>| {
        Array2::from_shape_vec(x.dim(), x.iter().copied().collect())
            .unwrap_or_else(|_| panic!("copy"))
    };
    let (ca, cb) = (copy(a), copy(b));
    assert!(ca.is_standard_layout() && cb.is_standard_layout());
    let mut strided = Array2::<f32>::zeros((m, n));
    let mut copied = Array2::<f32>::zeros((m, n));
    assert!(matmul_into(a, b, strided.view_mut()));
    assert!(matmul_into(ca.view(), cb.view(), copied.view_mut()));
    let bits = |x: &Array2<f32>| x.iter().map(|v| v.to_bits()).collect();
    (bits(&strided), bits(&copied))
}

#[test]
fn gemm_is_bitwise_the_same_on_transposed_strides() {
    // The FC/MLP backward shapes, odd sizes, and sizes at the thresholds.
    let shapes = [
        (64, 3072, 42),
        (3072, 64, 42),
        (64, 42, 3072),
        (17, 1023, 19),
        (257, 3, 2),
        (2, 5, 129),
        (16, 33, 17),
        (100, 300, 70),
    ];
    for (m, k, n) in shapes {
        assert!(strides_keep_order(m, k, n), "{m}x{k}x{n}");
        for (ta, tb) in [(true, false), (false, true), (true, true)] {
            let (strided, copied) = both(m, k, n, ta, tb);
            assert!(
                strided == copied,
                "{m}x{k}x{n} ta={ta} tb={tb}: strided product differs"
            );
        }
    }
    // Below the thresholds the plan keeps the transpose.
    for (m, k, n) in [(16, 40, 16), (1, 40, 300), (300, 40, 1), (40, 2, 40)] {
        assert!(!strides_keep_order(m, k, n), "{m}x{k}x{n}");
    }
}

/// `transpose(x) @ y` (or `y @ transpose(x)`), with `extra` fetching the
/// transpose as well.
fn graph(m: usize, k: usize, n: usize, left: bool, fetch_t: bool) -> (Graph, Vec<NodeId>, NodeId) {
    let mut g = Graph::new();
    let (x_dims, y_dims, t_dims): (&[usize], &[usize], &[usize]) = if left {
        (&[k, m], &[k, n], &[m, k])
    } else {
        (&[n, k], &[m, k], &[k, n])
    };
    let x = konst(&mut g, values(DType::F32, x_dims, 5, false));
    let y = konst(&mut g, values(DType::F32, y_dims, 6, false));
    let t = add(
        &mut g,
        Op::Transpose { perm: vec![1, 0] },
        &[x],
        DType::F32,
        t_dims,
    );
    let inputs = if left { [t, y] } else { [y, t] };
    let p = add(&mut g, Op::MatMul, &inputs, DType::F32, &[m, n]);
    let fetches = if fetch_t { vec![p, t] } else { vec![p] };
    (g, fetches, t)
}

#[test]
fn absorbed_transposes_give_the_interpreters_bits() {
    for (m, k, n) in [(64, 3072, 42), (42, 64, 3072), (17, 1023, 19)] {
        for left in [true, false] {
            for fetch_t in [false, true] {
                let (g, fetches, t) = graph(m, k, n, left, fetch_t);
                let stored = stored_and_bitwise(&g, &fetches, t);
                assert_eq!(stored, fetch_t, "{m}x{k}x{n} left={left}");
            }
        }
    }
}

#[test]
fn transposes_with_other_users_or_small_products_are_stored() {
    // A transpose also read by an elementwise op is computed once, stored.
    let mut g = Graph::new();
    let x = konst(&mut g, values(DType::F32, &[40, 30], 7, false));
    let y = konst(&mut g, values(DType::F32, &[40, 20], 8, false));
    let t = add(
        &mut g,
        Op::Transpose { perm: vec![1, 0] },
        &[x],
        DType::F32,
        &[30, 40],
    );
    let p = add(&mut g, Op::MatMul, &[t, y], DType::F32, &[30, 20]);
    let neg = add(
        &mut g,
        Op::Unary(crate::ir::UnaryOp::Neg),
        &[t],
        DType::F32,
        &[30, 40],
    );
    assert_eq!(agree(&g, &[p, neg]), (1, 1));
    let exe =
        compile(&g, &[p, neg], Options::checked()).unwrap_or_else(|e| panic!("{}", e.message));
    assert!(matches!(exe.steps[t.index()], Step::Fallback));
    // Batched: the transpose of the last two axes of a [2, k, m] tensor.
    let mut g = Graph::new();
    let x = konst(&mut g, values(DType::F64, &[2, 300, 20], 9, false));
    let y = konst(&mut g, values(DType::F64, &[2, 300, 30], 10, false));
    let t = add(
        &mut g,
        Op::Transpose {
            perm: vec![0, 2, 1],
        },
        &[x],
        DType::F64,
        &[2, 20, 300],
    );
    let p = add(&mut g, Op::MatMul, &[t, y], DType::F64, &[2, 20, 30]);
    assert_eq!(agree(&g, &[p]), (0, 1));
    let exe = compile(&g, &[p], Options::checked()).unwrap_or_else(|e| panic!("{}", e.message));
    assert!(matches!(exe.steps[t.index()], Step::Unused));
    // A small product keeps the transpose (gemm's order would differ).
    let (g, fetches, t) = graph(3, 4, 5, true, false);
    assert_eq!(agree(&g, &fetches), (0, 1));
    let exe = compile(&g, &fetches, Options::checked()).unwrap_or_else(|e| panic!("{}", e.message));
    assert!(matches!(exe.steps[t.index()], Step::Fallback));
}

#[test]
fn reshapes_are_read_in_place_bitwise() {
    // `flatten(x) @ w` (the FC layer) and `w' @ reshape(x)`, small and large,
    // and a transposed reshape on the other side; the reshape is not stored
    // unless fetched, and the product is bitwise the interpreter's.
    for (m, k, n) in [(64, 3072, 42), (3, 4, 5), (17, 30, 1)] {
        for left in [true, false] {
            for fetch_r in [false, true] {
                let mut g = Graph::new();
                // Every k here is even: [m, k/2, 2] -> [m, k]; [k*n] -> [k, n].
                let (x_dims, r_dims) = if left {
                    (vec![m, k / 2, 2], [m, k])
                } else {
                    (vec![k * n], [k, n])
                };
                let x = konst(&mut g, values(DType::F32, &x_dims, 11, false));
                let r = add(&mut g, Op::Reshape, &[x], DType::F32, &r_dims);
                let other: [usize; 2] = if left { [k, n] } else { [m, k] };
                let y = konst(&mut g, values(DType::F32, &other, 12, false));
                let ins = if left { [r, y] } else { [y, r] };
                let p = add(&mut g, Op::MatMul, &ins, DType::F32, &[m, n]);
                let fetches = if fetch_r { vec![p, r] } else { vec![p] };
                let stored = stored_and_bitwise(&g, &fetches, r);
                assert_eq!(stored, fetch_r, "{m}x{k}x{n} left={left}");
            }
        }
    }
}

#[test]
fn transposed_reshapes_are_read_in_place_bitwise() {
    // The FC step's `flatten(x)ᵀ @ g` (autodiff's dW1) beside the forward
    // `flatten(x) @ w`: neither the transpose nor the reshape is stored
    // unless one of them is fetched or the reshape has another user (a
    // fetched transpose needs it too), and both products
    // are bitwise the interpreter's.
    for (m, k, n) in [(64, 3072, 42), (16, 40, 24)] {
        for (fetch_r, fetch_t, other_user) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (false, false, true),
        ] {
            let mut g = Graph::new();
            let f = DType::F32;
            let x = konst(&mut g, values(f, &[m, k / 2, 2], 21, false));
            let r = add(&mut g, Op::Reshape, &[x], f, &[m, k]);
            let w = konst(&mut g, values(f, &[k, n], 22, false));
            let fwd = add(&mut g, Op::MatMul, &[r, w], f, &[m, n]);
            let perm = vec![1, 0];
            let t = add(&mut g, Op::Transpose { perm }, &[r], f, &[k, m]);
            let dw = add(&mut g, Op::MatMul, &[t, fwd], f, &[k, n]);
            let mut fetches = vec![dw, fwd];
            if fetch_r {
                fetches.push(r);
            }
            if fetch_t {
                fetches.push(t);
            }
            if other_user {
                let neg = add(&mut g, Op::Unary(crate::ir::UnaryOp::Neg), &[r], f, &[m, k]);
                fetches.push(neg);
            }
            let stored = stored_and_bitwise(&g, &fetches, r);
            // A fetched transpose is computed from the reshape.
            let expect = fetch_r || fetch_t || other_user;
            assert_eq!(
                stored, expect,
                "{m}x{k}x{n} {fetch_r} {fetch_t} {other_user}"
            );
            let t_stored = stored_and_bitwise(&g, &fetches, t);
            assert_eq!(t_stored, fetch_t, "{m}x{k}x{n}: the transpose");
        }
    }
}

/// Runs `fetches` on the JIT (asserting every value bitwise the
/// interpreter's) and says whether `node` was stored (not read in place).
#[track_caller]
fn stored_and_bitwise(g: &Graph, fetches: &[NodeId], node: NodeId) -> bool {
    let inputs = no_inputs();
    let exe = compile(g, fetches, Options::checked())
        .unwrap_or_else(|e| panic!("compile: {}", e.message));
    let jit = exe.run(&inputs).unwrap_or_else(|e| panic!("{}", e.message));
    let interp = interp::run_step(g, fetches, &inputs).unwrap_or_else(|e| panic!("{}", e.message));
    let bits = |t: &Tensor| t.to_f64_vec().iter().map(|v| v.to_bits()).collect();
    for (j, i) in jit.fetched.iter().zip(&interp.fetched) {
        let (jb, ib): (Vec<u64>, Vec<u64>) = (bits(j), bits(i));
        assert!(jb == ib, "not bitwise equal");
    }
    !matches!(exe.steps[node.index()], Step::Unused)
}
