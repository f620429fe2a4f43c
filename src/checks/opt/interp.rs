//! Optimiser tests that run the interpreter: constant folding bit for bit, every
//! program before and after, nested regions end to end.

use crate::backend::{interp::run_step, StepInputs};
use crate::checks::jit::no_inputs;
use crate::ir::{
    BinaryOp, DType, Graph, Module, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp,
};
use crate::opt::print::to_text;
use crate::opt::tests::{after, f32s, lines, module, Builder};
use crate::opt::{const_fold, PassManager};
use std::collections::HashMap;
use std::path::Path;

/// Every `Reduce`/elementwise op constant folding supports gives exactly the
/// interpreter's value (bit for bit).
#[test]
fn folding_agrees_with_the_interpreter_bit_for_bit() {
    let mut b = Builder::new();
    let data: Vec<f64> = (0..300)
        .map(|i| ((i * 37) % 101) as f64 * 0.37 - 17.0)
        .collect();
    let x = b.constant(Tensor::from_f64_vec(&f32s(&[3, 100]), data.clone()).expect("shape"));
    let xd = b.constant(
        Tensor::from_f64_vec(&TensorType::new(DType::F64, vec![3, 100]), data).expect("shape"),
    );
    let mut outs = Vec::new();
    let max_pool = |size, strides| Op::MaxPool2d {
        size,
        strides,
        pads: [0; 4],
    };
    let labels = b.constant(
        Tensor::from_f64_vec(
            &TensorType::new(DType::I32, vec![4]),
            vec![0.0, 2.0, -1.0, 7.0],
        )
        .expect("shape"),
    );
    outs.push(b.op(Op::OneHot { depth: 3 }, &[labels]));
    for src in [x, xd] {
        for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min] {
            for axes in [vec![0], vec![1], vec![0, 1]] {
                outs.push(b.op(
                    Op::Reduce {
                        op,
                        axes,
                        keepdims: false,
                    },
                    &[src],
                ));
            }
        }
        for u in [
            UnaryOp::Exp,
            UnaryOp::Tanh,
            UnaryOp::Sigmoid,
            UnaryOp::Relu,
            UnaryOp::Sin,
        ] {
            outs.push(b.op(Op::Unary(u), &[src]));
        }
        let row = b.op(
            Op::Reduce {
                op: ReduceOp::Mean,
                axes: vec![0],
                keepdims: true,
            },
            &[src],
        );
        for op in [
            BinaryOp::Div,
            BinaryOp::Pow,
            BinaryOp::Maximum,
            BinaryOp::Lt,
        ] {
            outs.push(b.op(Op::Binary(op), &[src, row]));
        }
        outs.push(b.op(Op::Transpose { perm: vec![1, 0] }, &[src]));
        outs.push(b.op(Op::ArgMax { axis: 1 }, &[src]));
        outs.push(b.op(Op::Concat { axis: 0 }, &[src, src, row]));
        outs.push(b.op(
            Op::Pad {
                pads: vec![[1, 0], [2, 3]],
                value: -1.5,
            },
            &[src],
        ));
        let i = b.scalar(DType::I32, -1.0);
        outs.push(b.op(Op::Index, &[src, i]));
        outs.push(b.op(Op::Cast(DType::I32), &[src]));
        outs.push(b.shaped(Op::Reshape, src, &[30, 10]));
        // Matrix products: 2-D, batched, and with a broadcast batch axis; the
        // shared GEMM's summation order is reproduced exactly.
        let square = b.shaped(Op::Reshape, src, &[30, 10]);
        let tall = b.op(Op::Transpose { perm: vec![1, 0] }, &[src]);
        outs.push(b.op(Op::MatMul, &[src, tall]));
        outs.push(b.op(Op::MatMul, &[tall, src]));
        let batched = b.shaped(Op::Reshape, src, &[3, 10, 10]);
        outs.push(b.op(Op::MatMul, &[batched, batched]));
        let one_batch = b.shaped(Op::Reshape, src, &[1, 3, 10, 10]);
        let shared = b.shaped(Op::Reshape, square, &[3, 10, 10]);
        outs.push(b.op(Op::MatMul, &[one_batch, shared]));
        let wide = b.shaped(Op::Reshape, src, &[10, 30]);
        outs.push(b.op(Op::MatMul, &[batched, wide]));
        // Convolutions (the interpreter's `kernels::conv`): VALID, SAME
        // with strides, and the stride-1 implicit-GEMM path.
        let image = b.shaped(Op::Reshape, src, &[2, 5, 10, 3]);
        let filter = b.shaped(Op::Reshape, src, &[2, 2, 3, 25]);
        for (strides, pads) in [([1, 1], [0; 4]), ([2, 1], [1, 0, 1, 1])] {
            outs.push(b.op(Op::Conv2d { strides, pads }, &[image, filter]));
        }
        // The other network ops.
        for axis in [0, 1] {
            outs.push(b.op(Op::Softmax { axis }, &[src]));
            outs.push(b.op(Op::LogSoftmax { axis }, &[src]));
        }
        let probs = b.op(Op::Softmax { axis: 1 }, &[src]);
        outs.push(b.op(Op::SoftmaxCrossEntropy, &[src, probs]));
        let shifted = b.op(Op::Binary(BinaryOp::Sub), &[src, row]);
        outs.push(b.op(Op::MeanSquaredError, &[src, shifted]));
        let nhwc = b.shaped(Op::Reshape, src, &[2, 5, 10, 3]);
        outs.push(b.op(max_pool([2, 3], [2, 2]), &[nhwc]));
    }
    // A NaN propagates through pooling and softmax as in the interpreter.
    let nan = b.constant(
        Tensor::from_f64_vec(&f32s(&[1, 2, 2, 1]), vec![1.0, f64::NAN, -2.0, 0.5]).expect("shape"),
    );
    outs.push(b.op(max_pool([2, 2], [1, 1]), &[nan]));
    outs.push(b.op(Op::Softmax { axis: 3 }, &[nan]));
    let ints = b.op(Op::Cast(DType::I32), &[x]);
    let ints = b.shaped(Op::Reshape, ints, &[1, 10, 10, 3]);
    outs.push(b.op(max_pool([3, 3], [3, 3]), &[ints]));
    let names: Vec<(String, NodeId)> = outs
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("n{i}"), *id))
        .collect();
    let reference = evaluate(&b.graph, &outs);
    let named: Vec<(&str, NodeId)> = names.iter().map(|(n, id)| (n.as_str(), *id)).collect();
    let mut m = module(b.graph, &named);
    after(&mut m, vec![Box::new(const_fold::ConstFold)]);
    let roots: Vec<NodeId> = m.names.iter().map(|(_, id)| *id).collect();
    assert!(roots
        .iter()
        .all(|id| matches!(m.graph.node(*id).op, Op::Const(_))));
    let folded = evaluate(&m.graph, &roots);
    for (i, (a, b)) in reference.iter().zip(&folded).enumerate() {
        assert!(
            crate::opt::values::same_bits(a, b),
            "output {i}: {a:?} vs {b:?}"
        );
    }
}

/// An `i32` product (the language types it out, but the IR and both evaluators
/// define it: wrapping sums) folds to the interpreter's value.
#[test]
fn integer_matmul_folds_like_the_interpreter() {
    let mut b = Builder::new();
    let ty = TensorType::new(DType::I32, vec![2, 3]);
    let values = vec![2e9, -7.0, 3.0, 1.0, 2e9, -2e9];
    let a = Tensor::from_f64_vec(&ty, values).expect("shape");
    let bt = Tensor::from_f64_vec(&TensorType::new(DType::I32, vec![3, 2]), vec![5.0; 6])
        .expect("shape");
    let (an, bn) = (b.constant(a.clone()), b.constant(bt.clone()));
    let out_ty = TensorType::new(DType::I32, vec![2, 2]);
    let mm = b
        .graph
        .add(Op::MatMul, vec![an, bn], out_ty.clone(), Default::default());
    let reference = evaluate(&b.graph, &[mm]);
    let folded = crate::kernels::eval::eval_pure(b.graph.node(mm), &[&a, &bt]).expect("folds");
    assert!(crate::opt::values::same_bits(&reference[0], &folded));
    let expected = Tensor::from_f64_vec(
        &out_ty,
        // Row 0: wrap(2e9 * 5) - 35 + 15; row 1: 5 + wrap(1e10) + wrap(-1e10).
        [f64::from(2_000_000_000i32.wrapping_mul(5) - 20), 5.0]
            .into_iter()
            .flat_map(|v| [v, v])
            .collect(),
    )
    .expect("shape");
    assert!(
        crate::opt::values::same_bits(&folded, &expected),
        "{folded:?}"
    );
}

fn evaluate(graph: &Graph, fetches: &[NodeId]) -> Vec<Tensor> {
    let inputs = no_inputs();
    run_step(graph, fetches, &inputs)
        .expect("the interpreter runs the graph")
        .fetched
}

/// The pipeline on every program: the verifier accepts each result, no program
/// grows, and every fetchable name has the same value before and after.
#[test]
fn every_program_optimises_and_agrees() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("programs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "td"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let source = std::fs::read_to_string(&path).expect("readable");
        let Ok(module) = crate::compile(&source, &dir) else {
            continue;
        };
        if !module.data.datasets.is_empty() {
            // Fed step by step by a session; `tests/golden.rs` runs them.
            continue;
        }
        let mut optimised = module.clone();
        let stats = crate::opt::optimize(&mut optimised).expect("optimises");
        assert!(stats.last() <= stats.initial, "{}", path.display());
        crate::ir::verify::verify_module(&optimised).expect("verifies");
        let before = run_all(&module);
        let after = run_all(&optimised);
        for ((name, a), b) in module.names.iter().map(|(n, _)| n).zip(&before).zip(&after) {
            assert!(
                crate::opt::values::same_bits(a, b),
                "{}: `{name}` differs",
                path.display()
            );
        }
    }
}

pub(super) fn run_all(module: &Module) -> Vec<Tensor> {
    let placeholders: HashMap<String, Tensor> = module
        .placeholders
        .iter()
        .filter_map(|p| Some((p.name.clone(), p.default.clone()?)))
        .collect();
    let variables: HashMap<String, Tensor> = module
        .variables
        .iter()
        .map(|v| (v.name.clone(), v.init.clone()))
        .collect();
    let inputs = StepInputs {
        placeholders: &placeholders,
        variables: &variables,
    };
    let fetches: Vec<NodeId> = module.names.iter().map(|(_, id)| *id).collect();
    run_step(&module.graph, &fetches, &inputs)
        .expect("runs")
        .fetched
}

/// Regions inside regions: a `fold` whose body holds a `cond` on a constant
/// predicate. The branch is inlined into the body, the body's now unused capture
/// is dropped from the `fold`, and the values do not change.
#[test]
fn nested_regions_fold_inline_and_prune() {
    let mut b = Builder::new();
    let xs = b.placeholder("xs", f32s(&[3, 2]));
    let init = b.placeholder("init", f32s(&[2]));
    let w = b.placeholder("w", f32s(&[2]));
    // body(acc, x, w) = cond(true, acc + x [then], acc * w [else])
    let row = f32s(&[2]);
    let mut body = Builder::region(vec![row.clone(), row.clone(), row.clone()]);
    let (acc, x, wp) = (body.param(0), body.param(1), body.param(2));
    let t = body.constant(Tensor::scalar(DType::Bool, 1.0));
    let mut then_b = Builder::region(vec![row.clone(), row.clone(), row.clone()]);
    let (a0, a1) = (then_b.param(0), then_b.param(1));
    let sum = then_b.op(Op::Binary(BinaryOp::Add), &[a0, a1]);
    let then_body = Box::new(then_b.finish(sum));
    let mut else_b = Builder::region(vec![row.clone(), row.clone(), row]);
    let (e0, e2) = (else_b.param(0), else_b.param(2));
    let prod = else_b.op(Op::Binary(BinaryOp::Mul), &[e0, e2]);
    let else_body = Box::new(else_b.finish(prod));
    let c = body.op(
        Op::Cond {
            then_body,
            else_body,
        },
        &[t, acc, x, wp],
    );
    let body = Box::new(body.finish(c));
    let f = b.op(Op::Fold { body }, &[init, xs, w]);
    let original = module(b.graph, &[("f", f)]);
    let mut m = original.clone();
    let mut manager = PassManager::default_pipeline();
    manager.verify = true;
    manager.run(&mut m).expect("optimises");
    let expected = "
%0 = placeholder xs : f32[3, 2]
%1 = placeholder init : f32[2]
%2 = fold %1, %0 : f32[2]  // f
  body(f32[2], f32[2]) {
    %0 = param 0 : f32[2]
    %1 = param 1 : f32[2]
    %2 = add %0, %1 : f32[2]
    yield %2
  }
";
    assert_eq!(to_text(&m.graph, &m.names), lines(expected));
    let mut feeds = HashMap::new();
    let row = |v: Vec<f64>, dims: &[usize]| Tensor::from_f64_vec(&f32s(dims), v).expect("shape");
    feeds.insert(
        "xs".to_string(),
        row(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]),
    );
    feeds.insert("init".to_string(), row(vec![0.5, -0.5], &[2]));
    feeds.insert("w".to_string(), row(vec![7.0, 8.0], &[2]));
    let run = |module: &Module| {
        let variables = HashMap::new();
        let inputs = StepInputs {
            placeholders: &feeds,
            variables: &variables,
        };
        let fetch = module.lookup("f").expect("f");
        run_step(&module.graph, &[fetch], &inputs)
            .expect("runs")
            .fetched
    };
    assert_eq!(run(&original)[0].to_f64_vec(), vec![9.5, 11.5]);
    assert_eq!(run(&m)[0].to_f64_vec(), vec![9.5, 11.5]);
}
