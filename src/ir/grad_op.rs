//! The backward-only ops (`GradOp`), in one family of `Op::Grad`.

use super::op::OpKind;

/// Ops that only the backward pass creates: one family, so that every pass and
/// backend handles them with one `match` arm (kernels: `src/kernels/eval/grad/`).
/// All but `MaxPool2dGrad` and `SparseSoftmaxGrad` are linear in each input;
/// all but `MaxPool2dGrad` have backward rules, so gradients of gradients go
/// through them; through `MaxPool2dGrad` they are an `unsupported` diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GradOp {
    /// A static slice: inputs `[x]`; `x[starts[0]..starts[0] + d0, ...]` where the
    /// node's type gives the extents `d`. The adjoint of `Pad` and of `Concat`.
    Slice { starts: Vec<usize> },
    /// The adjoint of `Index`: inputs `[g, i: i32[]]`; zeros of the node's type
    /// (`[n, g.shape...]`) with row `i` set to `g` (negative `i` counts from the
    /// end, as in `Index`; out of range is a run-time error).
    ScatterIndex,
    /// The adjoint of `Conv2d` for its input: inputs `[g: NHWO, w: HWIO]`; the
    /// node's type is the input's `NHWC`. Same `strides` and `pads` as the forward op.
    Conv2dBackpropInput {
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// The adjoint of `Conv2d` for its filter: inputs `[x: NHWC, g: NHWO]`; the
    /// node's type is the filter's `HWIO`.
    Conv2dBackpropFilter {
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// The adjoint of `MaxPool2d`: inputs `[x, g]`; each window's gradient goes to
    /// the first position (row-major in the window) holding its maximum;
    /// overlapping windows add up. The node's type is `x`'s.
    MaxPool2dGrad {
        size: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// The adjoint of `StridedSlice`: inputs `[g]`; zeros of the node's type with
    /// `g` written at the slice's positions.
    StridedScatter { starts: Vec<usize>, steps: Vec<i64> },
    /// The adjoint of `Take` for `x`: inputs `[g, indices]`; zeros of the node's
    /// type (x's) with each slice of `g` added at its index (repeats add up).
    TakeGrad { axis: usize },
    /// The adjoint of `MirrorPad`: inputs `[g]`; the padded gradient folded back
    /// onto x's type (each mirrored element adds onto its source).
    MirrorPadGrad {
        pads: Vec<[usize; 2]>,
        symmetric: bool,
    },
    /// The adjoint of `AvgPool2d`: inputs `[g]`; each window's gradient is
    /// spread evenly over its cells inside the input. The node's type is `x`'s.
    AvgPool2dGrad {
        size: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    /// The gradient of `sparse_softmax_cross_entropy` before scaling: inputs
    /// `[logits f[N, C], labels i32[N]]`; `softmax(logits) - one_hot(labels)`,
    /// with the forward op's range check on the labels.
    SparseSoftmaxGrad,
}

impl GradOp {
    pub fn kind(&self) -> OpKind {
        match self {
            GradOp::Slice { .. }
            | GradOp::ScatterIndex
            | GradOp::StridedScatter { .. }
            | GradOp::TakeGrad { .. }
            | GradOp::MirrorPadGrad { .. } => OpKind::Movement,
            GradOp::Conv2dBackpropInput { .. }
            | GradOp::Conv2dBackpropFilter { .. }
            | GradOp::MaxPool2dGrad { .. }
            | GradOp::AvgPool2dGrad { .. }
            | GradOp::SparseSoftmaxGrad => OpKind::Network,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            GradOp::Slice { .. } => "slice",
            GradOp::ScatterIndex => "scatter_index",
            GradOp::Conv2dBackpropInput { .. } => "conv2d_backprop_input",
            GradOp::Conv2dBackpropFilter { .. } => "conv2d_backprop_filter",
            GradOp::MaxPool2dGrad { .. } => "max_pool2d_grad",
            GradOp::StridedScatter { .. } => "strided_scatter",
            GradOp::TakeGrad { .. } => "take_grad",
            GradOp::MirrorPadGrad { .. } => "mirror_pad_grad",
            GradOp::AvgPool2dGrad { .. } => "avg_pool2d_grad",
            GradOp::SparseSoftmaxGrad => "sparse_softmax_grad",
        }
    }
    /// The name with the attributes, for printing: `slice[starts=[0, 2]]`.
    pub fn with_attributes(&self) -> String {
        let list = |items: &[usize]| {
            let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
            format!("[{}]", items.join(", "))
        };
        let name = self.name();
        match self {
            GradOp::Slice { starts } => format!("{name}[starts={}]", list(starts)),
            GradOp::ScatterIndex | GradOp::SparseSoftmaxGrad => name.to_string(),
            GradOp::Conv2dBackpropInput { strides, pads }
            | GradOp::Conv2dBackpropFilter { strides, pads } => {
                format!("{name}[strides={}, pads={}]", list(strides), list(pads))
            }
            GradOp::MaxPool2dGrad {
                size,
                strides,
                pads,
            }
            | GradOp::AvgPool2dGrad {
                size,
                strides,
                pads,
            } => super::printer::window_label(name, size, strides, pads),
            GradOp::StridedScatter { starts, steps } => {
                format!("{name}[starts={}, steps={steps:?}]", list(starts))
            }
            GradOp::TakeGrad { axis } => format!("{name}[axis={axis}]"),
            GradOp::MirrorPadGrad { pads, symmetric } => {
                format!("{name}[{pads:?}, symmetric={symmetric}]")
            }
        }
    }
}
