//! Backward rule of `cond`, and the region helpers the loop rules share: a
//! backward region that yields several adjoints packs them into one flat vector
//! the outer graph slices apart (`docs/autodiff.md`).

use super::emit::Emit;
use super::sweep;
use crate::diag::{Diag, Span};
use crate::ir::{DType, Graph, Node, NodeId, Op, TensorType};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// Copies `region`'s nodes into `e.graph`, with `Param(i)` replaced by `args[i]`;
/// returns the copy of its single result.
pub(super) fn inline(e: &mut Emit, region: &Graph, args: &[NodeId]) -> Result<NodeId, Diag> {
    let mut map: Vec<NodeId> = Vec::with_capacity(region.len());
    for node in &region.nodes {
        let new_id = match node.op {
            Op::Param(i) => *args
                .get(i)
                .ok_or_else(|| e.bug(format!("region parameter {i} has no argument")))?,
            _ => {
                let inputs = node
                    .inputs
                    .iter()
                    .map(|input| map.get(input.index()).copied())
                    .collect::<Option<Vec<NodeId>>>()
                    .ok_or_else(|| e.bug("a region node uses a later node"))?;
                e.graph
                    .add(node.op.clone(), inputs, node.ty.clone(), node.span)
            }
        };
        map.push(new_id);
    }
    match region.results.as_slice() {
        [result] => map
            .get(result.index())
            .copied()
            .ok_or_else(|| e.bug("the region's result is not one of its nodes")),
        other => Err(e.bug(format!("a region with {} results", other.len()))),
    }
}

/// Flattens `parts` (cast to `dtype`) into one vector.
pub(super) fn pack(e: &mut Emit, parts: &[NodeId], dtype: DType) -> Result<NodeId, Diag> {
    let mut flat = Vec::with_capacity(parts.len());
    for &p in parts {
        let cast = e.cast(p, dtype);
        flat.push(e.flat(cast)?);
    }
    let total: usize = parts.iter().map(|&p| e.graph.ty(p).shape.numel()).sum();
    if total == 0 {
        return Ok(e.zeros(&TensorType::new(dtype, vec![0])));
    }
    e.concat(&flat, 0)
}

/// The inverse of [`pack`]: one node of each of `types`.
pub(super) fn unpack(
    e: &mut Emit,
    packed: NodeId,
    types: &[TensorType],
) -> Result<Vec<NodeId>, Diag> {
    let mut offset = 0;
    let mut out = Vec::with_capacity(types.len());
    for ty in types {
        let n = ty.shape.numel();
        if n == 0 {
            out.push(e.zeros(ty));
            continue;
        }
        let piece = e.slice(packed, &[offset], &[n])?;
        let shaped = e.reshape(piece, ty.shape.dims())?;
        out.push(e.cast(shaped, ty.dtype));
        offset += n;
    }
    Ok(out)
}

/// Params `0..types.len()` of a new region.
pub(super) fn params(e: &mut Emit, types: &[TensorType]) -> Vec<NodeId> {
    (0..types.len())
        .map(|i| e.add(Op::Param(i), vec![], types[i].clone()))
        .collect()
}

/// The adjoint of `x` from a sweep, or zeros.
pub(super) fn adjoint_or_zeros(e: &mut Emit, adjoint: &[Option<NodeId>], x: NodeId) -> NodeId {
    match adjoint.get(x.index()).copied().flatten() {
        Some(a) => a,
        None => {
            let ty = e.ty(x);
            e.zeros(&ty)
        }
    }
}

/// `y = cond(p, then(caps), else(caps))`: d caps = cond(p, then'(caps, g), else'(caps, g)).
pub(crate) fn cond(
    e: &mut Emit,
    then_body: &Graph,
    else_body: &Graph,
    node: &Node,
    g: NodeId,
) -> Contributions {
    let captures = node.inputs.get(1..).unwrap_or(&[]);
    let cap_types: Vec<TensorType> = captures.iter().map(|&c| e.ty(c)).collect();
    let wanted: Vec<usize> = (0..captures.len())
        .filter(|&k| cap_types[k].dtype.is_float())
        .collect();
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let g_ty = e.ty(g);
    let then_bwd = cond_branch(then_body, &cap_types, &g_ty, &wanted, e.span)?;
    let else_bwd = cond_branch(else_body, &cap_types, &g_ty, &wanted, e.span)?;
    let total = wanted.iter().map(|&k| cap_types[k].shape.numel()).sum();
    let mut inputs = node.inputs.clone();
    inputs.push(g);
    let op = Op::Cond {
        then_body: Box::new(then_bwd),
        else_body: Box::new(else_bwd),
    };
    let packed = e.add(op, inputs, TensorType::new(g_ty.dtype, vec![total]));
    let wanted_types: Vec<TensorType> = wanted.iter().map(|&k| cap_types[k].clone()).collect();
    let pieces = unpack(e, packed, &wanted_types)?;
    let mut out = vec![None; node.inputs.len()];
    for (&k, piece) in wanted.iter().zip(pieces) {
        out[1 + k] = Some(piece);
    }
    Ok(out)
}

/// The backward region of one branch: params `(caps..., g)`, result the packed
/// adjoints of the `wanted` captures.
fn cond_branch(
    branch: &Graph,
    cap_types: &[TensorType],
    g_ty: &TensorType,
    wanted: &[usize],
    span: Span,
) -> Result<Graph, Diag> {
    let mut types = cap_types.to_vec();
    types.push(g_ty.clone());
    let mut region = Graph::region(types.clone());
    let mut e = Emit::new(&mut region, span);
    let args = params(&mut e, &types);
    let (caps, g) = (&args[..cap_types.len()], args[cap_types.len()]);
    let floor = e.graph.len();
    let result = inline(&mut e, branch, caps)?;
    let adjoint = sweep(e.graph, &[(result, g)], floor)?;
    let mut e = Emit::new(&mut region, span);
    let parts: Vec<NodeId> = wanted
        .iter()
        .map(|&k| adjoint_or_zeros(&mut e, &adjoint, caps[k]))
        .collect();
    let packed = pack(&mut e, &parts, g_ty.dtype)?;
    region.results = vec![packed];
    Ok(region)
}
