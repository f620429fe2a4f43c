//! A reduction's iteration space: kept axes first, reduced axes last, each
//! collapsed; rows and blocks of the innermost reduced axis (see the parent
//! module's docs), or column mode.

use super::super::codegen::internal;
use super::super::nest::{broadcast_strides, collapse, Nest};
use super::super::views::View;
use super::BLOCK;
use crate::diag::Diag;
use crate::ir::{Graph, NodeId, Op};

/// The iteration space of a reduction (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Row axes (kept, then all reduced but the innermost), collapsed.
    pub(crate) row_dims: Vec<usize>,
    /// Per leaf: strides on the row axes, then on the innermost reduced axis.
    pub(crate) strides: Vec<Vec<usize>>,
    /// Per leaf: the offset of its first element (a view's base, else 0).
    pub(crate) bases: Vec<usize>,
    pub(crate) inner: usize,
    pub(crate) rows: usize,
    pub(crate) blocks: usize,
    /// Output elements.
    pub(crate) outputs: usize,
    /// Elements reduced into one output (for `mean`; 0 for an empty reduction).
    pub(crate) count: usize,
    /// Column mode: the number of row blocks per output (`rows` are then
    /// tasks, `blocks` is 1, `inner` is the kept axis walked in lanes).
    pub(crate) columns: Option<usize>,
    /// Partials in all, per output (contiguous, combined in order), and
    /// elements visited (for the thread split).
    pub(crate) partials: usize,
    pub(crate) per_output: usize,
    pub(crate) work: usize,
}

/// Whether the JIT fuses this reduction: `sum`/`mean`/`max`/`min` on floats.
pub(crate) fn reducible(graph: &Graph, id: NodeId) -> bool {
    let node = graph.node(id);
    matches!(node.op, Op::Reduce { .. })
        && node.inputs.len() == 1
        && node.ty.dtype.is_float()
        && graph.ty(node.inputs[0]).dtype == node.ty.dtype
}

/// The layout of reduction `id` whose kernel accesses `operands` (its leaves,
/// then its side output if any).
pub(crate) fn layout(graph: &Graph, id: NodeId, operands: &[NodeId]) -> Result<Layout, Diag> {
    layout_of(graph, id, operands, &[])
}

/// As [`layout`], some leaves read as strided views with non-negative
/// strides (`views.rs`): such a leaf broadcasts by its view's dims and walks
/// its source by the view's strides from the view's base.
pub(crate) fn layout_of(
    graph: &Graph,
    id: NodeId,
    operands: &[NodeId],
    views: &[View],
) -> Result<Layout, Diag> {
    let node = graph.node(id);
    let Op::Reduce { axes, .. } = &node.op else {
        return Err(internal("not a reduction"));
    };
    let dims = graph.ty(node.inputs[0]).shape.dims();
    if axes.iter().any(|&a| a >= dims.len()) || axes.windows(2).any(|w| w[0] >= w[1]) {
        return Err(internal(format!("bad reduction axes {axes:?} of {dims:?}")));
    }
    let view = |k: usize| views.iter().find(|v| v.leaf == k);
    let shapes: Vec<&[usize]> = (0..operands.len())
        .map(|k| match view(k) {
            Some(v) => v.dims.as_slice(),
            None => graph.ty(operands[k]).shape.dims(),
        })
        .collect();
    let mut strides = broadcast_strides(dims, &shapes)?;
    let mut bases = vec![0usize; operands.len()];
    for (k, row) in strides.iter_mut().enumerate() {
        let Some(v) = view(k) else {
            continue;
        };
        let lead = dims.len() - v.dims.len();
        for (a, (&d, &s)) in v.dims.iter().zip(&v.strides).enumerate() {
            let s = usize::try_from(s).map_err(|_| internal("a reduced view steps backwards"))?;
            row[lead + a] = if d == 1 { 0 } else { s };
        }
        bases[k] = usize::try_from(v.base).map_err(|_| internal("a view before its buffer"))?;
    }
    let lens: Vec<usize> = operands
        .iter()
        .map(|&l| graph.ty(l).shape.numel())
        .collect();
    let part = |keep: bool| {
        let axes_of: Vec<usize> = (0..dims.len())
            .filter(|a| axes.contains(a) != keep)
            .collect();
        let d: Vec<usize> = axes_of.iter().map(|&a| dims[a]).collect();
        let rows: Vec<Vec<usize>> = strides
            .iter()
            .map(|row| axes_of.iter().map(|&a| row[a]).collect())
            .collect();
        collapse(&d, &rows)
    };
    let (kept, kept_strides) = part(true);
    let (mut red, mut red_strides) = part(false);
    if red.is_empty() {
        red.push(1);
        red_strides.iter_mut().for_each(|r| r.push(0));
    }
    let outputs: usize = kept.iter().product();
    if let Some(mut layout) =
        super::super::columns::layout(&kept, &kept_strides, &red, &red_strides)
    {
        layout.bases = bases;
        layout.nest().prove(&lens)?;
        return Ok(layout);
    }
    let inner = red.pop().unwrap_or(1);
    let rows_per_output: usize = red.iter().product();
    let row_dims: Vec<usize> = kept.iter().chain(&red).copied().collect();
    let strides: Vec<Vec<usize>> = kept_strides
        .into_iter()
        .zip(red_strides)
        .map(|(k, r)| k.into_iter().chain(r).collect())
        .collect();
    let (rows, blocks) = (outputs * rows_per_output, inner.div_ceil(BLOCK));
    let layout = Layout {
        rows,
        blocks,
        count: rows_per_output * inner,
        columns: None,
        partials: rows * blocks,
        per_output: rows_per_output * blocks,
        work: rows * inner,
        row_dims,
        strides,
        bases,
        inner,
        outputs,
    };
    layout.nest().prove(&lens)?;
    Ok(layout)
}

impl Layout {
    /// The whole iteration space as a nest (rows, then the inner axis).
    pub(crate) fn nest(&self) -> Nest {
        let mut dims = self.row_dims.clone();
        dims.push(self.inner);
        Nest {
            dims,
            strides: self
                .strides
                .iter()
                .map(|row| row.iter().map(|&s| s as i64).collect())
                .collect(),
            bases: self.bases.iter().map(|&b| b as i64).collect(),
        }
    }

    /// Whether there is nothing to run (an empty output or empty reduction).
    pub(crate) fn empty(&self) -> bool {
        self.rows == 0 || self.inner == 0
    }
}
