//! Which matmuls run the GEMM kernel, and the buffers each one reads:
//! reshapes and last-two-axis transposes are read in place.

use super::super::gemm::{strides_keep_order, Layout};
use super::super::matmul::MatMul;
use crate::ir::{Graph, Node, NodeId, Op};

/// Whether the matmul kernel handles this node: f32/f64, both inputs of rank ≥ 2.
pub(super) fn matmul_lowered(graph: &Graph, node: &Node) -> bool {
    let [a, b] = node.inputs.as_slice() else {
        return false;
    };
    let (ta, tb) = (graph.ty(*a), graph.ty(*b));
    ta.dtype.is_float()
        && ta.dtype == tb.dtype
        && ta.shape.rank() >= 2
        && tb.shape.rank() >= 2
        && node.ty.shape.rank() >= 2
}

/// The buffers matmul `id` reads: an input that is an unfetched transpose of
/// the last two axes is replaced by the transpose's input read with
/// transposed strides, when gemm sums in the same order either way (so the
/// result is bitwise the interpreter's, which stores the transpose).
pub(super) fn matmul_plan(graph: &Graph, id: NodeId, fetched: &[bool]) -> MatMul {
    let node = graph.node(id);
    let mut operands = [node.inputs[0], node.inputs[1]];
    let typed = operands;
    let mut layouts = [Layout::Rows; 2];
    let dims = |i: NodeId| graph.ty(i).shape.dims().to_vec();
    let (a, out) = (dims(operands[0]), node.ty.shape.dims());
    let (m, n) = (out[out.len() - 2], out[out.len() - 1]);
    let k = a[a.len() - 1];
    // A reshape (e.g. `flatten(x) @ w`) is read in place: its input holds the
    // same elements in the same row-major order, so the product is bitwise
    // the one of the copy.
    for operand in operands.iter_mut() {
        let input = graph.node(*operand);
        if let (Op::Reshape, false, [source]) =
            (&input.op, fetched[operand.index()], input.inputs.as_slice())
        {
            *operand = *source;
        }
    }
    if !strides_keep_order(m, k, n) {
        return MatMul {
            node: id,
            operands,
            typed,
            layouts,
            bases: [0; 2],
        };
    }
    for ((operand, layout), &typed) in operands.iter_mut().zip(layouts.iter_mut()).zip(&typed) {
        if *operand != typed {
            continue; // a reshape's input
        }
        let input = graph.node(*operand);
        let Op::Transpose { perm } = &input.op else {
            continue;
        };
        let r = perm.len();
        let swaps_last_two = r >= 2
            && perm[..r - 2].iter().enumerate().all(|(i, &p)| p == i)
            && perm[r - 2] == r - 1
            && perm[r - 1] == r - 2;
        if let (true, false, [source]) = (
            swaps_last_two,
            fetched[operand.index()],
            input.inputs.as_slice(),
        ) {
            *operand = *source;
            *layout = Layout::Trans;
        }
    }
    let typed = [0, 1].map(|i| {
        if layouts[i] == Layout::Trans {
            operands[i]
        } else {
            typed[i]
        }
    });
    // A transposed reshape (autodiff's `flatten(x)ᵀ @ g`) is read in place
    // too: the reshape's input holds its elements in the same order.
    for (operand, layout) in operands.iter_mut().zip(&layouts) {
        let input = graph.node(*operand);
        if let (Layout::Trans, Op::Reshape, false, [source]) = (
            layout,
            &input.op,
            fetched[operand.index()],
            input.inputs.as_slice(),
        ) {
            *operand = *source;
        }
    }
    let mut mm = MatMul {
        node: id,
        operands,
        typed,
        layouts,
        bases: [0; 2],
    };
    bands(graph, &mut mm, fetched);
    mm
}

/// A 2-D operand that is an unfetched slice stepping forwards along its
/// rows and by 1 along its columns (`x[a:b:s, c:d]`) is read in place as a
/// [`Layout::Band`] of its source (when gemm sums in the same order whatever
/// the strides, as for transposes): same values, so the product is bitwise
/// the copy's.
fn bands(graph: &Graph, mm: &mut MatMul, fetched: &[bool]) {
    let out = graph.ty(mm.node).shape.dims();
    let a = graph.ty(mm.typed[0]).shape.dims();
    let ([m, n], [_, k]) = (out, a) else {
        return;
    };
    if !strides_keep_order(*m, *k, *n) {
        return;
    }
    for i in 0..2 {
        let operand = mm.operands[i];
        if mm.layouts[i] != Layout::Rows || operand != mm.typed[i] || fetched[operand.index()] {
            continue;
        }
        if !matches!(graph.node(operand).op, Op::StridedSlice { .. }) {
            continue;
        }
        let Some((source, dims, strides, base)) = super::super::views::layout(graph, operand)
        else {
            continue;
        };
        let (&[_, c], &[rs, 1]) = (dims.as_slice(), strides.as_slice()) else {
            continue;
        };
        let (Ok(ld), Ok(base)) = (usize::try_from(rs), usize::try_from(base)) else {
            continue;
        };
        if ld < c || graph.ty(source).shape.rank() != 2 {
            continue;
        }
        mm.operands[i] = source;
        mm.layouts[i] = Layout::Band(ld);
        mm.bases[i] = base;
    }
}
