//! Fused kernels with several outputs (`plan/multi.rs`, `outputs.rs`):
//! bitwise the results of one kernel per output (the same ops per element)
//! on 1 and 2 threads, close to the interpreter's, written in place into
//! dying inputs and variables, and refused when a leaf needs a root first.

use super::{add, assert_close, bits, konst, no_inputs, values};
use crate::backend::jit::plan::multi::without_merging;
use crate::backend::jit::{compile, Executable, Options};
use crate::backend::threads::with_threads;
use crate::backend::{interp, StepInputs, StepResult};
use crate::ir::{BinaryOp as B, DType, Graph, NodeId, Op, Tensor, TensorType, UnaryOp as U};
use std::collections::HashMap;

const F: DType = DType::F32;

fn scalar(g: &mut Graph, v: f64) -> NodeId {
    konst(g, Tensor::scalar(F, v))
}

fn bin(g: &mut Graph, op: B, x: NodeId, y: NodeId, dims: &[usize]) -> NodeId {
    add(g, Op::Binary(op), &[x, y], F, dims)
}

/// Adam's update of `w` with gradient `g` as `minimize` builds it: `m' = b1
/// m + (1 - b1) g`, `s' = b2 s + (1 - b2) g²`, `w' = w - scale · m' /
/// (sqrt(s') + eps)`, each assigned. Returns the graph and the assigns.
fn adam(dims: &[usize]) -> (Graph, Vec<NodeId>) {
    adam_of(dims, false)
}

/// [`adam`], its gradient a reshape of a `[1, ...dims]` value when `kept`
/// (a bias gradient summed with kept dims).
fn adam_of(dims: &[usize], kept: bool) -> (Graph, Vec<NodeId>) {
    let mut g = Graph::new();
    let grad = match kept {
        false => konst(&mut g, values(F, dims, 1, false)),
        true => {
            let wide: Vec<usize> = std::iter::once(1).chain(dims.iter().copied()).collect();
            let sum = konst(&mut g, values(F, &wide, 1, false));
            add(&mut g, Op::Reshape, &[sum], F, dims)
        }
    };
    let var = |g: &mut Graph, name: &str| {
        let op = Op::Variable { name: name.into() };
        add(g, op, &[], F, dims)
    };
    let (m, s, w) = (var(&mut g, "m"), var(&mut g, "s"), var(&mut g, "w"));
    let (b1, c1) = (scalar(&mut g, 0.9), scalar(&mut g, 0.1));
    let bm = bin(&mut g, B::Mul, b1, m, dims);
    let cg = bin(&mut g, B::Mul, c1, grad, dims);
    let m2 = bin(&mut g, B::Add, bm, cg, dims);
    let g2 = bin(&mut g, B::Mul, grad, grad, dims);
    let (b2, c2) = (scalar(&mut g, 0.999), scalar(&mut g, 0.001));
    let bs = bin(&mut g, B::Mul, b2, s, dims);
    let cg2 = bin(&mut g, B::Mul, c2, g2, dims);
    let s2 = bin(&mut g, B::Add, bs, cg2, dims);
    let (scale, eps) = (scalar(&mut g, 0.003), scalar(&mut g, 1e-8));
    let root = add(&mut g, Op::Unary(U::Sqrt), &[s2], F, dims);
    let den = bin(&mut g, B::Add, root, eps, dims);
    let ratio = bin(&mut g, B::Div, m2, den, dims);
    let step = bin(&mut g, B::Mul, scale, ratio, dims);
    let w2 = bin(&mut g, B::Sub, w, step, dims);
    let assigns = [("m", m2), ("s", s2), ("w", w2)]
        .map(|(v, x)| add(&mut g, Op::Assign { var: v.into() }, &[x], F, dims));
    (g, assigns.to_vec())
}

/// The variables of [`adam`]: `s` non-negative.
fn adam_state(dims: &[usize]) -> HashMap<String, Tensor> {
    let ty = TensorType::new(F, dims.to_vec());
    let abs: Vec<f64> = values(F, dims, 3, false)
        .to_f64_vec()
        .iter()
        .map(|v| v.abs())
        .collect();
    let s = Tensor::from_f64_vec(&ty, abs).expect("s");
    HashMap::from([
        ("m".to_string(), values(F, dims, 2, false)),
        ("s".to_string(), s),
        ("w".to_string(), values(F, dims, 4, false)),
    ])
}

fn run(exe: &Executable, variables: &HashMap<String, Tensor>) -> StepResult {
    let empty = HashMap::new();
    let inputs = StepInputs {
        placeholders: &empty,
        variables,
    };
    exe.run(&inputs).unwrap_or_else(|e| panic!("{}", e.message))
}

/// The interpreter's step computing `fetches` from `variables`.
fn interp_step(g: &Graph, fetches: &[NodeId], variables: &HashMap<String, Tensor>) -> StepResult {
    let inputs = StepInputs {
        placeholders: &HashMap::new(),
        variables,
    };
    interp::run_step(g, fetches, &inputs).unwrap_or_else(|e| panic!("{}", e.message))
}

fn update_bits(r: &StepResult) -> Vec<(String, Vec<u64>)> {
    r.updates
        .iter()
        .map(|(n, t)| (n.clone(), bits(t)))
        .collect()
}

#[test]
fn adams_update_is_one_kernel_bitwise_the_three_kernels() {
    for dims in [&[7][..], &[3, 5], &[64, 512], &[300, 257]] {
        let (g, assigns) = adam(dims);
        let state = adam_state(dims);
        let expected = interp_step(&g, &assigns, &state);
        for threads in [1, 2] {
            with_threads(threads, || {
                let merged = compile(&g, &assigns, Options::checked()).expect("compiles");
                let single = without_merging(|| compile(&g, &assigns, Options::checked()))
                    .expect("compiles");
                assert_eq!(merged.kernel_counts().0, 1, "{dims:?}: one kernel");
                assert_eq!(single.kernel_counts().0, 3, "{dims:?}: three kernels");
                let (a, b) = (run(&merged, &state), run(&single, &state));
                assert_eq!(
                    update_bits(&a),
                    update_bits(&b),
                    "{dims:?}, {threads} threads"
                );
                for ((_, x), (_, y)) in expected.updates.iter().zip(&a.updates) {
                    assert_close(x, y);
                }
            });
        }
    }
}

#[test]
fn adams_update_writes_every_variable_in_place() {
    for dims in [&[3, 5][..], &[300, 257]] {
        let (g, assigns) = adam(dims);
        let exe = compile(&g, &assigns, Options::checked()).expect("compiles");
        let mut owned_names: Vec<&str> = exe.owned_variables().collect();
        owned_names.sort();
        assert_eq!(owned_names, ["m", "s", "w"]);
        let state = adam_state(dims);
        let expected = update_bits(&run(&exe, &state));
        let addresses = |t: &Tensor| match t {
            Tensor::F32(a) => a.as_ptr() as usize,
            other => panic!("{other:?}"),
        };
        for threads in [1, 2] {
            let owned = state.clone();
            let before: HashMap<String, usize> = owned
                .iter()
                .map(|(n, t)| (n.clone(), addresses(t)))
                .collect();
            let empty = HashMap::new();
            let inputs = StepInputs {
                placeholders: &empty,
                variables: &empty,
            };
            let (result, back) = with_threads(threads, || {
                exe.run_owning(&inputs, owned.into_iter().collect())
            });
            let result = result.unwrap_or_else(|e| panic!("{}", e.message));
            assert!(back.is_empty(), "every variable was overwritten");
            for (name, t) in &result.updates {
                assert_eq!(addresses(t), before[name], "{name} written in place");
            }
            assert_eq!(
                update_bits(&result),
                expected,
                "{dims:?}, {threads} threads"
            );
        }
    }
}

#[test]
fn a_root_feeding_another_through_memory_is_not_merged() {
    let dims = [6, 6];
    let mut g = Graph::new();
    let [a, b, c, d] = [1, 2, 3, 4].map(|s| konst(&mut g, values(F, &dims, s, false)));
    let r1 = bin(&mut g, B::Mul, a, b, &dims);
    let p = add(&mut g, Op::MatMul, &[r1, c], F, &dims);
    let r2 = bin(&mut g, B::Add, p, d, &dims);
    // An independent root of the same shape merges with either.
    let r3 = bin(&mut g, B::Sub, a, d, &dims);
    let fetches = [r1, r2, r3];
    let exe = compile(&g, &fetches, Options::checked()).expect("compiles");
    let kernels: Vec<Vec<NodeId>> = exe.fused.iter().map(|f| f.group.stored()).collect();
    assert_eq!(kernels.len(), 2, "{kernels:?}: r3 merged with r1 or r2");
    assert!(
        !kernels.iter().any(|k| k.contains(&r1) && k.contains(&r2)),
        "{kernels:?}: r2 reads p, which reads r1"
    );
    let jit = exe.run(&no_inputs()).expect("runs");
    let expected = interp::run_step(&g, &fetches, &no_inputs()).expect("runs");
    for (x, y) in expected.fetched.iter().zip(&jit.fetched) {
        assert_close(x, y);
    }
}

/// Two outputs reading a dying matmul output `p`: `exp(p) + b` reads it
/// only through the blocked `exp` (a block ahead of the stores), so only
/// `p * 3 - b` may overwrite it.
#[test]
fn a_dying_input_is_overwritten_only_by_an_output_that_loads_it() {
    for dims in [[5, 7], [40, 300]] {
        let mut g = Graph::new();
        let [a, b] = [1, 3].map(|s| konst(&mut g, values(F, &dims, s, false)));
        let c = konst(&mut g, values(F, &[dims[1], dims[1]], 2, false));
        let p = add(&mut g, Op::MatMul, &[a, c], F, &dims);
        let e = add(&mut g, Op::Unary(U::Exp), &[p], F, &dims);
        let o1 = bin(&mut g, B::Add, e, b, &dims);
        let three = scalar(&mut g, 3.0);
        let p3 = bin(&mut g, B::Mul, p, three, &dims);
        let o2 = bin(&mut g, B::Sub, p3, b, &dims);
        let fetches = [o1, o2];
        let no_arena = Options {
            arena: false,
            ..Options::checked()
        };
        let expected = without_merging(|| compile(&g, &fetches, no_arena))
            .expect("compiles")
            .run(&no_inputs())
            .expect("runs");
        for options in [no_arena, Options::checked()] {
            let exe = compile(&g, &fetches, options).expect("compiles");
            assert_eq!(exe.kernel_counts().0, 1);
            let leaves = exe
                .fused
                .iter()
                .map(|f| &f.group.leaves)
                .next()
                .expect("a kernel");
            let k = leaves.iter().position(|&l| l == p);
            let picks = exe.in_place.outputs.iter().next().expect("a plan");
            assert_eq!(picks, &[None, k]);
            for threads in [1, 2, 1] {
                let got = with_threads(threads, || exe.run(&no_inputs())).expect("runs");
                for (x, y) in expected.fetched.iter().zip(&got.fetched) {
                    assert_eq!(bits(x), bits(y), "{dims:?}, {threads} threads");
                }
            }
        }
    }
}

/// `v' = 0.9 v + w[::-1]` and `w' = w - 0.1 v'` share one kernel that reads
/// `w` reversed: `w'` is not written over `w` (element `i` of `w'` would be
/// stored before element `n-1-i` of `w` is read), while `v'` still may be.
#[test]
fn a_variable_read_through_a_view_is_not_overwritten_by_a_merged_kernel() {
    for n in [5, 4099] {
        let dims = [n];
        let mut g = Graph::new();
        let var = |g: &mut Graph, name: &str| {
            let op = Op::Variable { name: name.into() };
            add(g, op, &[], F, &dims)
        };
        let (w, v) = (var(&mut g, "w"), var(&mut g, "v"));
        let reversed = Op::StridedSlice {
            starts: vec![n - 1],
            sizes: vec![n],
            steps: vec![-1],
        };
        let r = add(&mut g, reversed, &[w], F, &dims);
        let (a, b) = (scalar(&mut g, 0.9), scalar(&mut g, 0.1));
        let av = bin(&mut g, B::Mul, a, v, &dims);
        let v2 = bin(&mut g, B::Add, av, r, &dims);
        let bv = bin(&mut g, B::Mul, b, v2, &dims);
        let w2 = bin(&mut g, B::Sub, w, bv, &dims);
        let assigns = [("v", v2), ("w", w2)]
            .map(|(x, y)| add(&mut g, Op::Assign { var: x.into() }, &[y], F, &dims));
        let state: HashMap<String, Tensor> = [("w", 5), ("v", 6)]
            .map(|(name, seed)| (name.to_string(), values(F, &dims, seed, false)))
            .into();
        let expected = interp_step(&g, &assigns, &state);
        let exe = compile(&g, &assigns, Options::checked()).expect("compiles");
        assert_eq!(exe.kernel_counts().0, 1, "one kernel for v' and w'");
        let views: usize = exe.fused.iter().map(|f| f.group.views.len()).sum();
        assert_eq!(views, 1, "w is read as a view");
        let owned: Vec<&str> = exe.owned_variables().collect();
        assert_eq!(owned, ["v"], "only v is overwritten");
        for threads in [1, 2] {
            let empty = HashMap::new();
            let inputs = StepInputs {
                placeholders: &empty,
                variables: &empty,
            };
            let owned = state.clone().into_iter().collect();
            let (result, _) = with_threads(threads, || exe.run_owning(&inputs, owned));
            let result = result.unwrap_or_else(|e| panic!("{}", e.message));
            let sorted = |r: &StepResult| {
                let mut u = r.updates.clone();
                u.sort_by(|x, y| x.0.cmp(&y.0));
                u
            };
            for ((x, a), (y, b)) in sorted(&expected).iter().zip(&sorted(&result)) {
                assert_eq!(x, y);
                assert_close(a, b);
            }
        }
    }
}

/// Adam's update calls the wide kernel (`adam.rs`): the bits of the `f32x4`
/// kernel of the same expression, on 1 and 2 threads, in place too; a
/// different expression (`w + step`) is an ordinary fused kernel.
#[test]
fn adams_update_runs_on_the_wide_kernel_with_the_bits_of_the_fused_one() {
    use crate::backend::jit::adam::{recognise, without_wide};
    for dims in [&[7][..], &[33], &[64, 512], &[300, 257]] {
        let (g, assigns) = adam(dims);
        let state = adam_state(dims);
        let exe = compile(&g, &assigns, Options::checked()).expect("compiles");
        let groups: Vec<_> = exe.fused.iter().map(|f| &f.group).collect();
        assert_eq!(groups.len(), 1);
        assert!(recognise(&g, groups[0]).is_some(), "{dims:?}");
        let plain = without_wide(|| compile(&g, &assigns, Options::checked())).expect("compiles");
        for threads in [1, 2] {
            let (a, b) = with_threads(threads, || (run(&exe, &state), run(&plain, &state)));
            assert_eq!(
                update_bits(&a),
                update_bits(&b),
                "{dims:?}, {threads} threads"
            );
        }
    }
    // A gradient read as a dense view (a reshape dropping a size-1 axis).
    let (g, assigns) = adam_of(&[300], true);
    let exe = compile(&g, &assigns, Options::checked()).expect("compiles");
    let group = &exe.fused.iter().next().expect("a kernel").group;
    assert_eq!(group.views.len(), 1);
    assert!(recognise(&g, group).is_some());
    let plain = without_wide(|| compile(&g, &assigns, Options::checked())).expect("compiles");
    let state = adam_state(&[300]);
    assert_eq!(
        update_bits(&run(&exe, &state)),
        update_bits(&run(&plain, &state))
    );
    // `w + step` is not Adam's update.
    let (mut g, mut assigns) = adam(&[5]);
    let w2 = g.node(assigns[2]).inputs[0];
    g.nodes[w2.index()].op = Op::Binary(B::Add);
    let exe = compile(&g, &assigns, Options::checked()).expect("compiles");
    let group = &exe.fused.iter().next().expect("a kernel").group;
    assert!(recognise(&g, group).is_none());
    assigns.truncate(2);
    let exe = compile(&g, &assigns, Options::checked()).expect("compiles");
    for f in exe.fused.iter() {
        assert!(
            recognise(&g, &f.group).is_none(),
            "two outputs are not the update"
        );
    }
}
