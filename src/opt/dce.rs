//! Dead-node elimination (`dce`): removes every node no root needs, in regions
//! too, drops the captures a region no longer uses (renumbering its params), then
//! cuts the unread pieces of packed results ([`super::fold_state`]).

use super::rewrite::compact;
use super::Pass;
use crate::ir::{Graph, Op};

pub struct Dce;

impl Pass for Dce {
    fn name(&self) -> &'static str {
        "dce"
    }

    fn run(&self, graph: &mut Graph) -> Result<bool, String> {
        let mut changed = dce_graph(graph)?;
        if super::fold_state::prune_fold_states(graph)? {
            dce_graph(graph)?;
            changed = true;
        }
        Ok(changed)
    }
}

/// Removes the dead nodes of `graph` (and of its live regions).
pub fn dce_graph(graph: &mut Graph) -> Result<bool, String> {
    let mut live = vec![false; graph.len()];
    for r in &graph.results {
        *live
            .get_mut(r.index())
            .ok_or_else(|| format!("result {r} is out of range"))? = true;
    }
    let mut changed = false;
    for index in (0..graph.len()).rev() {
        if !live[index] {
            continue;
        }
        let node = &mut graph.nodes[index];
        changed |= prune_regions(&mut node.op, &mut node.inputs)?;
        for input in &node.inputs {
            *live
                .get_mut(input.index())
                .ok_or_else(|| format!("input {input} is out of range"))? = true;
        }
    }
    changed |= compact(graph, &live)?;
    Ok(changed)
}

/// Cleans the regions of a `cond`/`fold` node and drops the captures they no longer use.
fn prune_regions(op: &mut Op, inputs: &mut Vec<crate::ir::NodeId>) -> Result<bool, String> {
    match op {
        Op::Cond {
            then_body,
            else_body,
        } => {
            let mut changed = dce_graph(then_body)? | dce_graph(else_body)?;
            let a = used_params(then_body);
            let b = used_params(else_body);
            let keep: Vec<bool> = a.iter().zip(&b).map(|(x, y)| *x || *y).collect();
            changed |= drop_params(&mut [then_body, else_body], &keep, inputs, 1)?;
            Ok(changed)
        }
        Op::Fold { body } | Op::Scan { body, .. } => {
            let mut changed = dce_graph(body)?;
            let mut keep = used_params(body);
            for k in keep.iter_mut().take(2) {
                *k = true;
            }
            changed |= drop_params(&mut [body], &keep, inputs, 0)?;
            Ok(changed)
        }
        _ => Ok(false),
    }
}

/// Which params of `region` some `Param` node uses.
pub fn used_params(region: &Graph) -> Vec<bool> {
    let mut used = vec![false; region.params.len()];
    for node in &region.nodes {
        if let Op::Param(p) = node.op {
            if let Some(u) = used.get_mut(p) {
                *u = true;
            }
        }
    }
    used
}

/// Removes the params whose `keep` entry is false from every region (they all
/// share one param list) and the matching node inputs (param `k` is input
/// `offset + k`), renumbering the remaining params.
fn drop_params(
    regions: &mut [&mut Box<Graph>],
    keep: &[bool],
    inputs: &mut Vec<crate::ir::NodeId>,
    offset: usize,
) -> Result<bool, String> {
    if keep.iter().all(|&k| k) {
        return Ok(false);
    }
    if inputs.len() != offset + keep.len() {
        return Err(format!(
            "{} inputs for {} region params after {offset} fixed inputs",
            inputs.len(),
            keep.len()
        ));
    }
    let mut renumber = Vec::with_capacity(keep.len());
    let mut next = 0;
    for &k in keep {
        renumber.push(next);
        next += usize::from(k);
    }
    for region in regions.iter_mut() {
        if region.params.len() != keep.len() {
            return Err("the regions of one node have different param counts".into());
        }
        for node in &mut region.nodes {
            if let Op::Param(p) = &mut node.op {
                *p = *renumber
                    .get(*p)
                    .ok_or_else(|| format!("param {p} is out of range"))?;
            }
        }
        let params = std::mem::take(&mut region.params);
        region.params = params
            .into_iter()
            .zip(keep)
            .filter_map(|(ty, &k)| k.then_some(ty))
            .collect();
    }
    let old = std::mem::take(inputs);
    for (i, input) in old.into_iter().enumerate() {
        if i < offset || keep[i - offset] {
            inputs.push(input);
        }
    }
    Ok(true)
}
