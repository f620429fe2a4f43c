//! What an [`Op`] is: its kind, its regions and its printed name.

use super::graph::Graph;
use super::op::{Op, OpKind, RandomKind};

impl Op {
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Placeholder { .. }
            | Op::Variable { .. }
            | Op::Const(_)
            | Op::Param(_)
            | Op::Step
            | Op::Iteration => OpKind::Leaf,
            Op::Random { kind, .. } => match kind {
                RandomKind::Dropout => OpKind::Elementwise,
                RandomKind::Normal | RandomKind::Uniform => OpKind::Leaf,
            },
            Op::Unary(_)
            | Op::Binary(_)
            | Op::Select
            | Op::Cast(_)
            | Op::StopGradient
            | Op::Broadcast => OpKind::Elementwise,
            Op::Reduce { .. } | Op::ArgMax { .. } => OpKind::Reduction,
            Op::Reshape
            | Op::Transpose { .. }
            | Op::Concat { .. }
            | Op::Index
            | Op::Pad { .. }
            | Op::OneHot { .. }
            | Op::StridedSlice { .. }
            | Op::Take { .. }
            | Op::MirrorPad { .. } => OpKind::Movement,
            Op::MatMul
            | Op::Conv2d { .. }
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::Softmax { .. }
            | Op::LogSoftmax { .. }
            | Op::SoftmaxCrossEntropy
            | Op::MeanSquaredError
            | Op::SparseSoftmaxCrossEntropy
            | Op::SigmoidCrossEntropy => OpKind::Network,
            Op::Cond { .. } | Op::Fold { .. } | Op::Scan { .. } => OpKind::Control,
            Op::Assign { .. } | Op::Group | Op::Allreduce { .. } => OpKind::State,
            Op::Grad(g) => g.kind(),
        }
    }

    /// The regions of a `cond` (`then`, `else`) or a loop (`body`), labelled.
    pub fn regions(&self) -> Vec<(&'static str, &Graph)> {
        match self {
            Op::Cond {
                then_body,
                else_body,
            } => vec![("then", then_body), ("else", else_body)],
            Op::Fold { body } | Op::Scan { body, .. } => vec![("body", body)],
            _ => vec![],
        }
    }

    /// [`Op::regions`], mutable and unlabelled.
    pub fn regions_mut(&mut self) -> Vec<&mut Graph> {
        match self {
            Op::Cond {
                then_body,
                else_body,
            } => vec![then_body, else_body],
            Op::Fold { body } | Op::Scan { body, .. } => vec![body],
            _ => vec![],
        }
    }

    /// A short name for printing: `add`, `matmul`, `reduce_sum`, ...
    pub fn name(&self) -> String {
        match self {
            Op::Placeholder { .. } => "placeholder".into(),
            Op::Variable { .. } => "variable".into(),
            Op::Const(_) => "const".into(),
            Op::Param(_) => "param".into(),
            Op::Step => "step".into(),
            Op::Iteration => "iteration".into(),
            Op::Random { kind, .. } => kind.name().into(),
            Op::Unary(u) => format!("{u:?}").to_lowercase(),
            Op::Binary(b) => format!("{b:?}").to_lowercase(),
            Op::Select => "where".into(),
            Op::Cast(_) => "cast".into(),
            Op::StopGradient => "stop_gradient".into(),
            Op::Broadcast => "broadcast".into(),
            Op::Reduce { op, .. } => format!("reduce_{}", format!("{op:?}").to_lowercase()),
            Op::ArgMax { .. } => "argmax".into(),
            Op::Reshape => "reshape".into(),
            Op::Transpose { .. } => "transpose".into(),
            Op::Concat { .. } => "concat".into(),
            Op::Index => "index".into(),
            Op::Pad { .. } => "pad".into(),
            Op::OneHot { .. } => "one_hot".into(),
            Op::StridedSlice { .. } => "strided_slice".into(),
            Op::Take { .. } => "take".into(),
            Op::MirrorPad { .. } => "mirror_pad".into(),
            Op::MatMul => "matmul".into(),
            Op::Conv2d { .. } => "conv2d".into(),
            Op::MaxPool2d { .. } => "max_pool2d".into(),
            Op::AvgPool2d { .. } => "avg_pool2d".into(),
            Op::Softmax { .. } => "softmax".into(),
            Op::LogSoftmax { .. } => "log_softmax".into(),
            Op::SoftmaxCrossEntropy => "softmax_cross_entropy".into(),
            Op::MeanSquaredError => "mean_squared_error".into(),
            Op::SparseSoftmaxCrossEntropy => "sparse_softmax_cross_entropy".into(),
            Op::SigmoidCrossEntropy => "sigmoid_cross_entropy".into(),
            Op::Cond { .. } => "cond".into(),
            Op::Fold { .. } => "fold".into(),
            Op::Scan { .. } => "scan".into(),
            Op::Assign { .. } => "assign".into(),
            Op::Group => "group".into(),
            Op::Allreduce { op } => format!("allreduce_{}", op.name()),
            Op::Grad(g) => g.name().into(),
        }
    }
}
