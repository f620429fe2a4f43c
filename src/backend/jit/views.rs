//! Slices read in place: a strided view of a stored value instead of a
//! written-out copy.
//!
//! A *view* is a `StridedSlice` (or autodiff's step-1 `Slice`) of a stored
//! value, or a `reshape` of such a slice, or of any stored value, that only
//! drops or inserts size-1 axes (an integer subscript `x[:, -1]` is a size-1
//! slice and a reshape; a bias gradient `reduce_sum(.., keepdims)` reshaped
//! to the bias's shape is a dense view of the sum).
//! Its elements are those of its source at `base + sum(j[k] * strides[k])`
//! (strides signed: `x[::-1]` walks its source backwards). A fused
//! elementwise kernel reads such a leaf from the source's buffer with these
//! strides (`nest::Operand::View`, covered by the bounds proof); so does a
//! fused reduction when the view's strides are not negative (its layout,
//! `reduce/layout.rs`, has unsigned strides and a base per leaf; see
//! [`forward_views`] for its sums). The group's
//! leaf becomes the source and a [`View`] records how it is read. A matmul
//! reads a 2-D slice as a band of its source (`plan/matmul.rs::bands`): it
//! then lists the source, not the slice, among its operands. When every
//! computation that reads the slice reads it this way, the slice is not
//! computed at all (`Step::Unused`: no arena slot, no copy); a slice that is
//! fetched, or read by any other kind of step, is still written out by its
//! direct step and its fused readers read that copy as before.
//!
//! Slices do no arithmetic, so the values are bitwise those of the copy.

use super::fused::Group;
use super::kinds::{FusedId, MatMulId, ReduceId, Table};
use super::matmul::MatMul;
use super::nest::Operand;
use super::plan::Step;
use super::reduce::Reduction;
use crate::diag::Diag;
use crate::ir::{GradOp, Graph, NodeId, Op};

/// A leaf of a fused group read as a strided view of its source.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct View {
    /// The leaf's position in the group's `leaves` (which hold the source).
    pub(crate) leaf: usize,
    /// The node the group's members read (the slice, or the reshape of it).
    pub(crate) node: NodeId,
    /// The view's dims (the node's shape).
    pub(crate) dims: Vec<usize>,
    /// Per axis, the step in elements of the source's buffer.
    pub(crate) strides: Vec<i64>,
    /// The offset of the view's first element in the source's buffer.
    pub(crate) base: i64,
}

impl Group {
    /// The view through which leaf `k` is read, if any.
    pub(crate) fn view(&self, k: usize) -> Option<&View> {
        self.views.iter().find(|v| v.leaf == k)
    }

    /// Whether leaf `k` is read as its whole buffer in order: no view, or a
    /// view that only drops or inserts size-1 axes of all of its source.
    pub(crate) fn reads_whole(&self, k: usize, graph: &Graph) -> bool {
        match self.view(k) {
            None => true,
            Some(v) => {
                let numel: usize = v.dims.iter().product();
                v.base == 0
                    && numel == graph.ty(self.leaves[k]).shape.numel()
                    && row_major(&v.dims).is_some_and(|r| r == v.strides)
            }
        }
    }

    /// The node whose value leaf `k` gives the members.
    pub(crate) fn read_as(&self, k: usize) -> Option<NodeId> {
        match self.view(k) {
            Some(v) => Some(v.node),
            None => self.leaves.get(k).copied(),
        }
    }

    /// The leaf whose value is node `id`'s (read whole or as a view).
    pub(crate) fn leaf_of(&self, id: NodeId) -> Option<usize> {
        (0..self.leaves.len()).find(|&k| self.read_as(k) == Some(id))
    }

    /// The leaves as operands of a nest: whole buffers or views.
    pub(crate) fn operands<'a>(&'a self, graph: &'a Graph) -> Vec<Operand<'a>> {
        (0..self.leaves.len())
            .map(|k| {
                let dims = graph.ty(self.leaves[k]).shape.dims();
                match self.view(k) {
                    Some(v) => Operand::View {
                        dims: &v.dims,
                        strides: &v.strides,
                        base: v.base,
                        len: dims.iter().product(),
                    },
                    None => Operand::Dense(dims),
                }
            })
            .collect()
    }
}

/// The layout of a view: its source, dims, strides and base.
pub(crate) type Layout = (NodeId, Vec<usize>, Vec<i64>, i64);

/// Row-major strides of `dims`, as `i64` (`None` on overflow).
fn row_major(dims: &[usize]) -> Option<Vec<i64>> {
    let mut strides = vec![0i64; dims.len()];
    let mut step = 1i64;
    for k in (0..dims.len()).rev() {
        strides[k] = step;
        step = step.checked_mul(i64::try_from(dims[k]).ok()?)?;
    }
    Some(strides)
}

/// The layout of the slice `id` of its (only) input.
fn slice(graph: &Graph, id: NodeId) -> Option<Layout> {
    let node = graph.node(id);
    let &[source] = node.inputs.as_slice() else {
        return None;
    };
    let dims = node.ty.shape.dims();
    let (starts, steps): (&[usize], Vec<i64>) = match &node.op {
        Op::StridedSlice {
            starts,
            sizes,
            steps,
        } if sizes.as_slice() == dims => (starts, steps.clone()),
        Op::Grad(GradOp::Slice { starts }) => (starts, vec![1; dims.len()]),
        _ => return None,
    };
    let src = graph.ty(source);
    if src.dtype != node.ty.dtype || starts.len() != dims.len() || steps.len() != dims.len() {
        return None;
    }
    if src.shape.rank() != dims.len() {
        return None;
    }
    let outer = row_major(src.shape.dims())?;
    let mut base = 0i64;
    let mut strides = Vec::with_capacity(dims.len());
    for k in 0..dims.len() {
        base = base.checked_add(i64::try_from(starts[k]).ok()?.checked_mul(outer[k])?)?;
        strides.push(steps[k].checked_mul(outer[k])?);
    }
    // Every element inside the source (the kernels' proof checks it again
    // over their nests; this covers a view hoisted as one element).
    if dims.iter().all(|&d| d > 0) {
        let mut lo = base;
        let mut hi = base;
        for (&d, &s) in dims.iter().zip(&strides) {
            let far = i64::try_from(d - 1).ok()?.checked_mul(s)?;
            lo = lo.checked_add(far.min(0))?;
            hi = hi.checked_add(far.max(0))?;
        }
        if lo < 0 || hi >= i64::try_from(src.shape.numel()).ok()? {
            return None;
        }
    }
    Some((source, dims.to_vec(), strides, base))
}

/// The layout of `id` when it is a view (see the module's documentation).
pub(crate) fn layout(graph: &Graph, id: NodeId) -> Option<Layout> {
    let node = graph.node(id);
    if !matches!(node.op, Op::Reshape) {
        return slice(graph, id);
    }
    let &[inner] = node.inputs.as_slice() else {
        return None;
    };
    // A reshape of a slice, or of any other value (then the whole of it).
    let (source, inner_dims, inner_strides, base) = match slice(graph, inner) {
        Some(l) => l,
        None => {
            let dims = graph.ty(inner).shape.dims();
            (inner, dims.to_vec(), row_major(dims)?, 0)
        }
    };
    if graph.ty(inner).dtype != node.ty.dtype {
        return None;
    }
    // Only size-1 axes come and go: the other axes keep their strides.
    let mut kept = inner_dims
        .iter()
        .zip(&inner_strides)
        .filter(|(&d, _)| d != 1);
    let dims = node.ty.shape.dims();
    let mut strides = Vec::with_capacity(dims.len());
    for &d in dims {
        if d == 1 {
            strides.push(0);
            continue;
        }
        match kept.next() {
            Some((&e, &s)) if e == d => strides.push(s),
            _ => return None,
        }
    }
    kept.next()
        .is_none()
        .then(|| (source, dims.to_vec(), strides, base))
}

/// Whether reduction `r` may read its candidate leaves as views: they step
/// forwards (its layout's strides are unsigned), its layout builds and
/// has at most about twice the copy's partial sums. The
/// view's layout may collapse fewer axes, or lose the `f32x4` lanes, than
/// the copy's: then its partial sums are split otherwise and the result can
/// differ from the copy's in the last bits (within the JIT's reduction
/// tolerance against the interpreter, like any fused reduction).
fn forward_views(graph: &Graph, r: &Reduction, layouts: &[Option<Layout>]) -> bool {
    let mut views = Vec::new();
    let mut operands: Vec<NodeId> = r.group.leaves.clone();
    for (k, leaf) in r.group.leaves.iter().enumerate() {
        if let Some(Some((source, dims, strides, base))) = layouts.get(leaf.index()) {
            if strides.iter().any(|&s| s < 0) {
                return false;
            }
            operands[k] = *source;
            views.push(View {
                leaf: k,
                node: *leaf,
                dims: dims.clone(),
                strides: strides.clone(),
                base: *base,
            });
        }
    }
    operands.extend(r.side);
    if views.is_empty() {
        return true;
    }
    // Rows too short for their blocks (`x[:, 1:]` of a narrow `x`: the
    // copy's rows collapse into long ones) make many more partials than the
    // copy's: the copy is cheaper then.
    super::reduce::layout_of(graph, r.node, &operands, &views)
        .is_ok_and(|l| l.partials <= 2 * r.layout.partials + 8)
}

/// Whether `step` computes a value a view can read from.
fn stored(step: Option<&Step>) -> bool {
    !matches!(step, Some(Step::Unused | Step::Inlined) | None)
}

/// Reads in place the slices whose every reader is a fused elementwise
/// kernel: rewrites those kernels' leaves into views of the sources and marks
/// the slices (and a reshape's slice, when nothing else reads it) unused.
pub(crate) fn absorb(
    graph: &Graph,
    steps: &mut [Step],
    groups: &mut Table<FusedId, Group>,
    reductions: &mut Table<ReduceId, Reduction>,
    matmuls: &Table<MatMulId, MatMul>,
    fetched: &[bool],
) -> Result<(), Diag> {
    let n = steps.len().min(graph.len());
    let mut layouts: Vec<Option<Layout>> = vec![None; n];
    for (i, out) in layouts.iter_mut().enumerate() {
        let id = NodeId(i as u32);
        let movement = matches!(steps[i], Step::Direct | Step::Fallback);
        if movement && !fetched.get(i).copied().unwrap_or(true) {
            *out = layout(graph, id).filter(|l| stored(steps.get(l.0.index())));
        }
    }
    // Kept: a candidate some other kind of step reads (a candidate reshape
    // keeps its slice only when it is kept itself: see below).
    let mut kept = vec![false; n];
    for (i, step) in steps.iter().enumerate().take(n) {
        let reads: &[NodeId] = match step {
            // A kernel's other outputs read through its group's leaves.
            Step::Unused | Step::Inlined | Step::Fused(_) | Step::Side(_) | Step::Output(_) => &[],
            Step::Reduce(r) => {
                let r = &reductions[*r];
                let same = forward_views(graph, r, &layouts);
                for l in r.group.leaves.iter().filter(|l| l.index() < n) {
                    kept[l.index()] |= !same;
                }
                &[]
            }
            Step::MatMul(m) => &matmuls[*m].operands,
            _ if layouts[i].is_some() => &[],
            _ => &graph.nodes[i].inputs,
        };
        for r in reads.iter().filter(|r| r.index() < n) {
            kept[r.index()] = true;
        }
    }
    // A candidate's source is read either way (by the slice's own step or
    // through the view); a kept reshape reads its slice. Inputs come first,
    // so one pass from the end settles chains (a slice of a slice).
    for i in (0..n).rev() {
        let Some((source, ..)) = &layouts[i] else {
            continue;
        };
        kept[source.index()] = true;
        if kept[i] && matches!(graph.nodes[i].op, Op::Reshape) {
            if let Some(&inner) = graph.nodes[i].inputs.first() {
                kept[inner.index()] = true;
            }
        }
    }
    let groups = groups.iter_mut();
    let reduced = reductions.iter_mut().map(|r| &mut r.group);
    for group in groups.chain(reduced) {
        for k in 0..group.leaves.len() {
            let leaf = group.leaves[k];
            let i = leaf.index();
            let Some((source, dims, strides, base)) = layouts.get(i).cloned().flatten() else {
                continue;
            };
            if kept[i] {
                continue;
            }
            group.leaves[k] = source;
            group.views.push(View {
                leaf: k,
                node: leaf,
                dims,
                strides,
                base,
            });
        }
    }
    for i in 0..n {
        if layouts[i].is_some() && !kept[i] {
            steps[i] = Step::Unused;
        }
    }
    for r in reductions.iter_mut().filter(|r| !r.group.views.is_empty()) {
        let mut operands = r.group.leaves.clone();
        operands.extend(r.side);
        r.layout = super::reduce::layout_of(graph, r.node, &operands, &r.group.views)?;
    }
    Ok(())
}
