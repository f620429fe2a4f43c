//! Reverse-mode automatic differentiation as a graph-to-graph transform
//! (`docs/autodiff.md`): [`backward`] appends the backward nodes of a float scalar
//! to the same graph, one `match` arm per op (the `rules_*` files); `control.rs`
//! and `loops.rs` differentiate regions.

mod control;
pub(crate) mod emit;
mod loops;
mod rules_elementwise;
mod rules_gather;
mod rules_movement;
mod rules_nn;
mod rules_pool;
mod rules_random;
mod rules_reduce;

use crate::diag::Diag;
use crate::ir::{AllreduceOp, GradOp, Graph, Node, NodeId, Op};
use emit::Emit;

/// The adjoints (gradients of one `y`) of the nodes `y` depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjoints {
    /// The scalar that was differentiated.
    pub y: NodeId,
    /// Indexed by node; `None` when the node does not influence `y` through a
    /// differentiable path.
    adjoint: Vec<Option<NodeId>>,
}

impl Adjoints {
    /// The adjoint node of `x`, if `x` influences `y`.
    pub fn get(&self, x: NodeId) -> Option<NodeId> {
        self.adjoint.get(x.index()).copied().flatten()
    }

    /// The gradient of `y` with respect to `x`: its adjoint node, or zeros of
    /// `x`'s type when `x` does not influence `y` (a scalar zero constant, broadcast
    /// when `x` is not a scalar, so that no large constant is built).
    pub fn of(&self, graph: &mut Graph, x: NodeId) -> NodeId {
        match self.get(x) {
            Some(adjoint) => adjoint,
            None => {
                let ty = graph.ty(x).clone();
                let span = graph.node(x).span;
                Emit::new(graph, span).zeros(&ty)
            }
        }
    }
}

/// Appends the backward pass of `y` (a float scalar) to `graph` and returns the
/// adjoint of every node `y` depends on through differentiable paths.
pub fn backward(graph: &mut Graph, y: NodeId) -> Result<Adjoints, Diag> {
    if y.index() >= graph.len() {
        return Err(Diag::internal(
            "autodiff",
            format!("node {y} is not in the graph"),
            None,
        ));
    }
    let ty = graph.ty(y).clone();
    let span = graph.node(y).span;
    if !ty.dtype.is_float() || ty.shape.rank() != 0 {
        return Err(Diag::error(
            format!("grad: the differentiated value must be a float scalar, but it is {ty}"),
            span,
        ));
    }
    let seed = Emit::new(graph, span).scalar(ty.dtype, 1.0);
    let adjoint = sweep(graph, &[(y, seed)], 0)?;
    Ok(Adjoints { y, adjoint })
}

/// The reverse sweep over `graph` (the top level or a region): `seeds` gives the
/// adjoints of some nodes; returns the adjoint of every node that has one.
/// Nodes below `floor` receive adjoints but are not differentiated further
/// (their inputs are outside the part being differentiated).
pub(crate) fn sweep(
    graph: &mut Graph,
    seeds: &[(NodeId, NodeId)],
    floor: usize,
) -> Result<Vec<Option<NodeId>>, Diag> {
    let top = seeds.iter().map(|(y, _)| y.index() + 1).max().unwrap_or(0);
    let mut contributions: Vec<Vec<NodeId>> = vec![Vec::new(); top];
    for &(y, seed) in seeds {
        contributions[y.index()].push(seed);
    }
    let mut adjoint: Vec<Option<NodeId>> = vec![None; top];
    for index in (0..top).rev() {
        let parts = std::mem::take(&mut contributions[index]);
        let span = graph.nodes[index].span;
        let Some(g) = Emit::new(graph, span).sum_all(&parts)? else {
            continue;
        };
        adjoint[index] = Some(g);
        let id = NodeId(index as u32);
        if index < floor || !graph.ty(id).dtype.is_float() {
            continue;
        }
        let node = graph.node(id).clone();
        let per_input = rule(graph, id, &node, g)?;
        for (k, contribution) in per_input.into_iter().enumerate() {
            let (Some(c), Some(&input)) = (contribution, node.inputs.get(k)) else {
                continue;
            };
            if graph.ty(c) != graph.ty(input) {
                return Err(Diag::internal(
                    "autodiff",
                    format!(
                        "the {} rule gave input {k} an adjoint of type {} but the input is {}",
                        node.op.name(),
                        graph.ty(c),
                        graph.ty(input)
                    ),
                    Some(node.span),
                ));
            }
            if let Some(slot) = contributions.get_mut(input.index()) {
                slot.push(c);
            }
        }
    }
    Ok(adjoint)
}

/// The contributions of node `id` (with adjoint `g`) to its inputs, by position;
/// `None` where an input receives no gradient.
fn rule(
    graph: &mut Graph,
    id: NodeId,
    node: &Node,
    g: NodeId,
) -> Result<Vec<Option<NodeId>>, Diag> {
    let mut e = Emit::new(graph, node.span);
    match &node.op {
        // Leaves have no inputs; these ops pass no gradient.
        Op::Placeholder { .. }
        | Op::Variable { .. }
        | Op::Const(_)
        | Op::Param(_)
        | Op::Step
        | Op::Iteration
        | Op::StopGradient
        | Op::ArgMax { .. }
        | Op::OneHot { .. }
        | Op::Group => Ok(vec![]),
        // The value of `assign(v, e)` is `e`: d/de = identity.
        Op::Assign { .. } => Ok(vec![Some(g)]),
        // Each process's loss depends on every process's `x` the same way, so
        // the adjoint is the incoming gradient combined with the same op.
        Op::Allreduce {
            op: op @ (AllreduceOp::Sum | AllreduceOp::Mean),
        } => {
            let ty = e.ty(g);
            Ok(vec![Some(e.add(Op::Allreduce { op: *op }, vec![g], ty))])
        }
        Op::Allreduce { .. } => Err(Diag::unsupported(
            "the gradient of `allreduce(x, op=\"max\")`",
            node.span,
        )),
        Op::Unary(op) => rules_elementwise::unary(&mut e, *op, id, node, g),
        Op::Binary(op) => rules_elementwise::binary(&mut e, *op, id, node, g),
        Op::Select => rules_elementwise::select(&mut e, node, g),
        Op::Cast(_) => rules_elementwise::cast(&mut e, node, g),
        Op::Broadcast => rules_movement::broadcast(&mut e, node, g),
        // `keepdims` only changes the adjoint's shape, which the rule reshapes anyway.
        Op::Reduce { op, axes, .. } => rules_reduce::reduce(&mut e, *op, axes, id, node, g),
        Op::Reshape => rules_movement::reshape(&mut e, node, g),
        Op::Transpose { perm } => rules_movement::transpose(&mut e, perm, g),
        Op::Concat { axis } => rules_movement::concat(&mut e, *axis, node, g),
        Op::Index => rules_movement::index(&mut e, node, g),
        Op::Pad { pads, .. } => rules_movement::pad(&mut e, pads, node, g),
        Op::StridedSlice { starts, steps, .. } => {
            rules_gather::strided_slice(&mut e, starts, steps, node, g)
        }
        Op::Take { axis } => rules_gather::take(&mut e, *axis, node, g),
        Op::MirrorPad { pads, symmetric } => {
            rules_gather::mirror_pad(&mut e, pads, *symmetric, node, g)
        }
        Op::MatMul => rules_nn::matmul(&mut e, node, g),
        Op::Conv2d { strides, pads } => rules_nn::conv2d(&mut e, *strides, *pads, node, g),
        Op::MaxPool2d {
            size,
            strides,
            pads,
        } => rules_pool::max_pool2d(&mut e, (*size, *strides, *pads), node, g),
        Op::AvgPool2d {
            size,
            strides,
            pads,
        } => rules_pool::avg_pool2d(&mut e, (*size, *strides, *pads), node, g),
        Op::Softmax { axis } => rules_nn::softmax(&mut e, *axis, id, g),
        Op::LogSoftmax { axis } => rules_nn::log_softmax(&mut e, *axis, id, g),
        Op::SoftmaxCrossEntropy => rules_nn::softmax_cross_entropy(&mut e, node, g),
        Op::MeanSquaredError => rules_nn::mean_squared_error(&mut e, node, g),
        Op::SparseSoftmaxCrossEntropy => rules_pool::sparse_softmax_cross_entropy(&mut e, node, g),
        Op::SigmoidCrossEntropy => rules_pool::sigmoid_cross_entropy(&mut e, node, g),
        Op::Cond {
            then_body,
            else_body,
        } => control::cond(&mut e, then_body, else_body, node, g),
        Op::Fold { body } => loops::fold(&mut e, body, id, node, g),
        Op::Scan {
            body,
            reverse,
            carry,
        } => loops::scan(&mut e, body, (*reverse, *carry), id, node, g),
        Op::Random { kind, seed } => rules_random::random(&mut e, *kind, *seed, node, g),
        Op::Grad(GradOp::Slice { starts }) => rules_movement::slice(&mut e, starts, node, g),
        Op::Grad(GradOp::ScatterIndex) => rules_movement::scatter_index(&mut e, node, g),
        Op::Grad(GradOp::StridedScatter { starts, steps }) => {
            rules_gather::strided_scatter(&mut e, starts, steps, node, g)
        }
        Op::Grad(GradOp::TakeGrad { axis }) => rules_gather::take_grad(&mut e, *axis, node, g),
        Op::Grad(GradOp::MirrorPadGrad { pads, symmetric }) => {
            rules_gather::mirror_pad_grad(&mut e, pads, *symmetric, node, g)
        }
        Op::Grad(GradOp::Conv2dBackpropInput { strides, pads }) => {
            rules_nn::conv2d_backprop_input(&mut e, *strides, *pads, node, g)
        }
        Op::Grad(GradOp::Conv2dBackpropFilter { strides, pads }) => {
            rules_nn::conv2d_backprop_filter(&mut e, *strides, *pads, node, g)
        }
        Op::Grad(GradOp::AvgPool2dGrad {
            size,
            strides,
            pads,
        }) => rules_pool::avg_pool2d_grad(&mut e, (*size, *strides, *pads), node, g),
        Op::Grad(GradOp::SparseSoftmaxGrad) => rules_pool::sparse_softmax_grad(&mut e, node, g),
        Op::Grad(op) => Err(Diag::unsupported(
            format!(
                "a gradient of a gradient: `{}` (created by an earlier `grad`) has no backward rule",
                op.name()
            ),
            node.span,
        )),
    }
}
