//! Pseudo-random elementwise graphs (chains and trees of ops with NumPy
//! broadcasting among `[4, 17]`, `[17]`, `[4, 1]`, `[1, 17]` and `[]`) agree
//! between the JIT and the interpreter: a deterministic property test.

use super::{add, agree, konst, values};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, UnaryOp};

const SHAPES: [&[usize]; 5] = [&[4, 17], &[17], &[4, 1], &[1, 17], &[]];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn random_graph(seed: u64) -> (Graph, Vec<NodeId>) {
    let mut rng = Rng(seed);
    let mut g = Graph::new();
    let f = DType::F32;
    let mut pool: Vec<NodeId> = (0..4)
        .map(|k| {
            let shape = SHAPES[rng.below(SHAPES.len())];
            konst(&mut g, values(f, shape, seed * 10 + k, k == 0))
        })
        .collect();
    let unary = [
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Relu,
        UnaryOp::Exp,
        UnaryOp::Tanh,
        UnaryOp::Sigmoid,
        UnaryOp::Sqrt,
    ];
    let binary = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
    ];
    for _ in 0..10 {
        let x = pool[rng.below(pool.len())];
        let y = pool[rng.below(pool.len())];
        let sx = g.ty(x).shape.dims().to_vec();
        let sy = g.ty(y).shape.dims().to_vec();
        let both = crate::ir::infer::broadcast_dims(&sx, &sy).expect("broadcastable");
        let node = match rng.below(4) {
            0 => add(
                &mut g,
                Op::Unary(unary[rng.below(unary.len())]),
                &[x],
                f,
                &sx,
            ),
            1 => add(
                &mut g,
                Op::Binary(binary[rng.below(binary.len())]),
                &[x, y],
                f,
                &both,
            ),
            2 => {
                let c = add(
                    &mut g,
                    Op::Binary(BinaryOp::Lt),
                    &[x, y],
                    DType::Bool,
                    &both,
                );
                add(&mut g, Op::Select, &[c, x, y], f, &both)
            }
            _ => {
                let wide = add(&mut g, Op::Cast(DType::F64), &[x], DType::F64, &sx);
                let back = add(&mut g, Op::Cast(f), &[wide], f, &sx);
                add(&mut g, Op::Binary(BinaryOp::Mul), &[back, y], f, &both)
            }
        };
        pool.push(node);
    }
    let last = pool[pool.len() - 1];
    let other = pool[4 + rng.below(pool.len() - 4)];
    (g, vec![last, other])
}

#[test]
fn random_elementwise_graphs_agree() {
    for seed in 0..60 {
        let (g, fetches) = random_graph(seed);
        agree(&g, &fetches);
    }
}
