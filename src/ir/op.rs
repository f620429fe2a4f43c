//! Operations of the graph IR, grouped in families.
//!
//! Attributes are normalised by the builder: axes are non-negative, `SAME`
//! padding is resolved to explicit pads, and the output shape of shape-changing
//! ops (`Reshape`) is the node's type. Elementwise binary ops broadcast like NumPy.

use super::graph::Graph;
use super::tensor::Tensor;
use super::types::DType;
use std::sync::Arc;

pub use super::grad_op::GradOp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    /// Logical not, on `bool`.
    Not,
    Exp,
    Log,
    Sqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    Sin,
    Cos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    /// Comparisons give `bool` from numeric inputs.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// `&&` and `||` take and give `bool`.
    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Mean,
    Max,
    Min,
}

/// What an [`Op::Random`] draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RandomKind {
    /// Standard normals (Box–Muller).
    Normal,
    /// Uniforms in [0, 1).
    Uniform,
    /// Inverted dropout of input 0: an element is kept when its uniform is at
    /// least `rate`, and kept values are scaled by `1 / (1 - rate)`.
    Dropout,
}

impl RandomKind {
    pub fn name(self) -> &'static str {
        match self {
            RandomKind::Normal => "random_normal",
            RandomKind::Uniform => "random_uniform",
            RandomKind::Dropout => "dropout",
        }
    }
}

/// The family of an op, for passes that ask rather than match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Leaf,
    Elementwise,
    Reduction,
    Movement,
    Network,
    Control,
    State,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    // ---- leaves (no inputs) ----
    /// Fed each step by name.
    Placeholder {
        name: String,
    },
    /// Read by name; the value at the start of the step.
    Variable {
        name: String,
    },
    /// A constant tensor: literals, `zeros`, `randn`, `load(...)`, ...
    Const(Arc<Tensor>),
    /// Parameter `i` of the enclosing region (cond branch or fold body).
    Param(usize),
    /// `step()`: the `i32[]` index of the current step, read from the step's
    /// inputs. Only at the top level (a region captures it).
    Step,
    /// The `i32[]` loop word of the iteration running this node
    /// ([`crate::ir::philox::loop_word`]'s bits): 0 outside every loop, else
    /// derived from the enclosing word, the loop's length and the row index `t`
    /// of every `fold` and `scan` around it (a `cond` branch keeps its
    /// enclosing word). Random ops inside a `fold` body read it.
    Iteration,

    // ---- elementwise (broadcasting) ----
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// `where(c, a, b)`: inputs `[c: bool, a, b]`, broadcast together.
    Select,
    Cast(DType),
    /// Identity forward; blocks gradients.
    StopGradient,
    /// Broadcast input 0 to the node's shape (NumPy rules).
    Broadcast,

    // ---- reductions ----
    /// Sorted, distinct, non-negative axes.
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
        keepdims: bool,
    },
    /// Gives `i32`; first index of the maximum.
    ArgMax {
        axis: usize,
    },

    // ---- movement ----
    /// Output shape is the node's type.
    Reshape,
    Transpose {
        perm: Vec<usize>,
    },
    /// Inputs: the tensors to join.
    Concat {
        axis: usize,
    },
    /// `x[i]` along axis 0: inputs `[x, i: i32[]]`. An index out of range is a
    /// run-time error.
    Index,
    /// `[before, after]` per axis.
    Pad {
        pads: Vec<[usize; 2]>,
        value: f64,
    },
    /// Inputs `[labels: i32]`; output `f32[labels.shape..., depth]`; labels out of
    /// range give a row of zeros (as in TF).
    OneHot {
        depth: usize,
    },
    /// NumPy basic slicing with every axis kept: output element `j` on axis `k` is
    /// input element `starts[k] + j * steps[k]`, for `j < sizes[k]` (steps may be
    /// negative, never 0). Integer subscripts are a size-1 slice and a `Reshape`.
    StridedSlice {
        starts: Vec<usize>,
        sizes: Vec<usize>,
        steps: Vec<i64>,
    },
    /// `take(x, indices, axis)`: inputs `[x, indices: i32]`; the output shape is
    /// `x.shape[..axis] + indices.shape + x.shape[axis + 1..]`. A negative index
    /// counts from the end; out of range is a run-time error.
    Take {
        axis: usize,
    },
    /// `pad(x, pads, mode="REFLECT")` (`symmetric: false`: the edge is not
    /// repeated, `pad < size`) or `"SYMMETRIC"` (the edge is repeated, `pad <= size`).
    MirrorPad {
        pads: Vec<[usize; 2]>,
        symmetric: bool,
    },

    // ---- networks ----
    /// 2-D, or batched over leading axes (which broadcast).
    MatMul,
    /// NHWC input, HWIO filter; `pads` = [top, bottom, left, right].
    Conv2d {
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// NHWC; `pads` = [top, bottom, left, right] (SAME resolved when lowering);
    /// padded cells never win the maximum.
    MaxPool2d {
        size: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// NHWC; each window's mean over its cells inside the input (padded cells
    /// are not counted, as in TF's SAME).
    AvgPool2d {
        size: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    Softmax {
        axis: usize,
    },
    LogSoftmax {
        axis: usize,
    },
    /// Inputs `[logits f[N, C], labels f[N, C]]`; mean over the batch; scalar.
    SoftmaxCrossEntropy,
    /// Inputs `[pred, target]` of one shape; mean over all elements; scalar.
    MeanSquaredError,
    /// Inputs `[logits f[N, C], labels i32[N]]`; mean over the batch; scalar. A
    /// label outside `[0, C)` is a run-time error naming the row.
    SparseSoftmaxCrossEntropy,
    /// Inputs `[logits, targets]` (broadcast together); mean over all elements
    /// of `max(x, 0) - x z + log(1 + exp(-|x|))`; scalar.
    SigmoidCrossEntropy,

    // ---- control flow ----
    /// Inputs `[pred: bool[], captures...]`; each branch is a region whose params are
    /// the captures and whose single result is the value.
    Cond {
        then_body: Box<Graph>,
        else_body: Box<Graph>,
    },
    /// Inputs `[init, xs, captures...]`; the body's params are `(acc, x, captures...)`
    /// and its single result is the next `acc`.
    Fold {
        body: Box<Graph>,
    },
    /// Autodiff's internal loop (`scan`). Inputs `[init: [carry], xs, captures...]`;
    /// the body's params are `(state: [carry], x, captures...)` and its single
    /// result is a vector `[next state (carry) | y_t (out_n)]`. The value is
    /// `[final state | y_0 .. y_{T-1}]` (row `t` is step `t`'s output in either
    /// direction); `reverse` runs `t = T-1 .. 0`.
    Scan {
        body: Box<Graph>,
        reverse: bool,
        carry: usize,
    },

    // ---- per-step randomness ----
    /// Values keyed by (seed, step, element) (`ir::philox`): `Normal` and
    /// `Uniform` take inputs `[step: i32[]]` and are typed by their node;
    /// `Dropout` takes `[x, rate: x.dtype[], step: i32[]]` and has `x`'s type;
    /// an optional fourth input `first_row: i32[]` keys row `k` of `x` as global
    /// row `first_row + k` (one process's share of a batch). Inside a `fold`
    /// body each also takes a last input, the loop word ([`Op::Iteration`]):
    /// `[step, word]`, or `[x, rate, step, first_row, word]`.
    Random {
        kind: RandomKind,
        seed: u64,
    },

    // ---- state ----
    /// Inputs `[value]`; sets the variable at the end of the step; its value is the new value.
    Assign {
        var: String,
    },
    /// Inputs: what to run. No value (its type is `bool[]` and never read).
    Group,
    /// Inputs `[x]`; `x` combined over every process of the run (`docs/distributed.md`);
    /// the identity on one process. Not pure: never folded, and every process must
    /// run the same allreduces in the same order.
    Allreduce {
        op: AllreduceOp,
    },

    // ---- backward ops (added by autodiff) ----
    /// Ops that only autodiff creates; see [`GradOp`].
    Grad(GradOp),
}

/// How `allreduce` combines the processes' values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AllreduceOp {
    Sum,
    Mean,
    Max,
}

impl AllreduceOp {
    /// As the program spells it: `"sum"`, `"mean"`, `"max"`.
    pub fn name(self) -> &'static str {
        match self {
            AllreduceOp::Sum => "sum",
            AllreduceOp::Mean => "mean",
            AllreduceOp::Max => "max",
        }
    }
}
