//! The same small networks differentiated in f32 and in f64: the f32 gradients
//! (what the programs use) agree with the f64 ones to 1e-4 relative, and mixed
//! dtypes (an f64 capture in an f32 fold) keep their types.

use super::util::{run, span, Values};
use crate::autodiff::emit::Emit;
use crate::ir::{DType, Graph, NodeId, Op, ReduceOp, Tensor, TensorType, UnaryOp};

fn ty(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType::new(dtype, dims.to_vec())
}

fn feed(dtype: DType, seed: u64, dims: &[usize]) -> Tensor {
    let values = Values::new(seed).tensor(dims, -1.0, 1.0).to_f64_vec();
    Tensor::from_f64_vec(&ty(dtype, dims), values).unwrap()
}

/// Builds `y` over placeholders `p0..` of `dims` in `dtype`, returns the gradients' values.
fn gradients(
    dtype: DType,
    dims: &[&[usize]],
    build: impl Fn(&mut Graph, &[NodeId], DType) -> NodeId,
) -> Vec<Vec<f64>> {
    let mut graph = Graph::new();
    let params: Vec<NodeId> = dims
        .iter()
        .enumerate()
        .map(|(k, d)| super::util::placeholder(&mut graph, &format!("p{k}"), ty(dtype, d)))
        .collect();
    let y = build(&mut graph, &params, dtype);
    let adjoints = crate::autodiff::backward(&mut graph, y).unwrap();
    let grads: Vec<NodeId> = params.iter().map(|&p| adjoints.of(&mut graph, p)).collect();
    for (&p, &d) in params.iter().zip(&grads) {
        assert_eq!(graph.ty(p), graph.ty(d));
    }
    let feeds: Vec<Tensor> = dims
        .iter()
        .enumerate()
        .map(|(k, d)| feed(dtype, 300 + k as u64, d))
        .collect();
    let values = run(&graph, &grads, &feeds, &[]).unwrap();
    values.iter().map(|t| t.to_f64_vec()).collect()
}

fn compare(dims: &[&[usize]], build: impl Fn(&mut Graph, &[NodeId], DType) -> NodeId) {
    let single = gradients(DType::F32, dims, &build);
    let double = gradients(DType::F64, dims, &build);
    for (a, b) in single.iter().zip(&double) {
        let scale = b.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-4 * scale, "f32 {x} vs f64 {y}");
        }
    }
}

#[test]
fn convnet_in_f32() {
    // conv (SAME) -> relu -> max_pool -> flatten -> matmul -> softmax_cross_entropy
    let dims: [&[usize]; 3] = [&[2, 6, 6, 2], &[3, 3, 2, 4], &[36, 3]];
    compare(&dims, |g, p, dtype| {
        let conv = Op::Conv2d {
            strides: [1, 1],
            pads: [1, 1, 1, 1],
        };
        let h = g.add(conv, vec![p[0], p[1]], ty(dtype, &[2, 6, 6, 4]), span());
        let mut e = Emit::new(g, span());
        let h = e.unary(UnaryOp::Relu, h);
        let pool = Op::MaxPool2d {
            size: [2, 2],
            strides: [2, 2],
            pads: [0; 4],
        };
        let h = e.add(pool, vec![h], ty(dtype, &[2, 3, 3, 4]));
        let h = e.reshape(h, &[2, 36]).unwrap();
        let scores = e.matmul(h, p[2]).unwrap();
        let labels = Tensor::from_f64_vec(&ty(dtype, &[2, 3]), vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        let labels = e.constant(labels.unwrap());
        let loss = Op::SoftmaxCrossEntropy;
        e.add(loss, vec![scores, labels], TensorType::scalar(dtype))
    });
}

#[test]
fn rnn_in_f32_with_an_f64_capture() {
    // fold(|h, x| tanh(x @ wx + h @ cast(wh, f32)), h0, xs) with wh in f64.
    let dims: [&[usize]; 4] = [&[2, 3], &[5, 2, 4], &[4, 3], &[3, 3]];
    compare(&dims, |g, p, dtype| {
        let wh64 = Emit::new(g, span()).cast(p[3], DType::F64);
        let types = [
            ty(dtype, &[2, 3]),
            ty(dtype, &[2, 4]),
            ty(dtype, &[4, 3]),
            ty(DType::F64, &[3, 3]),
        ];
        let mut body = Graph::region(types.to_vec());
        let mut e = Emit::new(&mut body, span());
        let q: Vec<NodeId> = (0..4)
            .map(|i| e.add(Op::Param(i), vec![], types[i].clone()))
            .collect();
        let xw = e.matmul(q[1], q[2]).unwrap();
        let wh = e.cast(q[3], dtype);
        let hw = e.matmul(q[0], wh).unwrap();
        let pre = e.add2(xw, hw).unwrap();
        let out = e.unary(UnaryOp::Tanh, pre);
        body.results = vec![out];
        let fold = Op::Fold {
            body: Box::new(body),
        };
        let h = g.add(
            fold,
            vec![p[0], p[1], p[2], wh64],
            ty(dtype, &[2, 3]),
            span(),
        );
        let mut e = Emit::new(g, span());
        let sq = e.mul(h, h).unwrap();
        e.reduce(ReduceOp::Mean, sq, &[0, 1], false).unwrap()
    });
}
