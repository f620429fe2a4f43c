//! The schedule's order and its `cond` fragments, on small dependency lists.

use super::{Deps, Item, Need, Runner, Schedule};
use crate::diag::Diag;
use crate::ir::NodeId;

/// Per node: its inputs, or a `cond`'s predicate and per-branch captures.
struct Toy(Vec<Need>);

impl Deps for Toy {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn need(&self, id: NodeId) -> Result<Need, Diag> {
        Ok(match &self.0[id.index()] {
            Need::Inputs(r) => Need::Inputs(r.clone()),
            Need::Cond { pred, branches } => Need::Cond {
                pred: *pred,
                branches: branches.clone(),
            },
        })
    }
}

fn ids(v: &[u32]) -> Vec<NodeId> {
    v.iter().map(|&i| NodeId(i)).collect()
}

fn inputs(v: &[u32]) -> Need {
    Need::Inputs(ids(v))
}

fn cond(pred: u32, then: &[u32], other: &[u32]) -> Need {
    Need::Cond {
        pred: NodeId(pred),
        branches: [ids(then), ids(other)],
    }
}

/// Records what a run computes, every `cond` taking `branch`.
struct Record {
    done: Vec<bool>,
    order: Vec<u32>,
    branch: usize,
}

impl Runner for Record {
    fn done(&self, id: NodeId) -> bool {
        self.done[id.index()]
    }
    fn node(&mut self, id: NodeId) -> Result<(), Diag> {
        assert!(!std::mem::replace(&mut self.done[id.index()], true));
        self.order.push(id.0);
        Ok(())
    }
    fn pair(&mut self, [a, b]: [NodeId; 2]) -> Result<(), Diag> {
        self.node(a)?;
        self.node(b)
    }
    fn branch(&self, _: NodeId) -> Result<usize, Diag> {
        Ok(self.branch)
    }
}

fn run(s: &Schedule, n: usize, branch: usize) -> Vec<u32> {
    let mut r = Record {
        done: vec![false; n],
        order: Vec::new(),
        branch,
    };
    s.run(&mut r).expect("runs");
    r.order
}

#[test]
fn the_order_is_the_demand_driven_walks() {
    // %2 = f(%0, %1), %3 = g(%2, %0): the last input first, each node once.
    let toy = Toy(vec![
        inputs(&[]),
        inputs(&[]),
        inputs(&[0, 1]),
        inputs(&[2, 0]),
    ]);
    let s = Schedule::new(&toy, &ids(&[3, 1])).expect("schedule");
    assert_eq!(run(&s, 4, 0), [0, 1, 2, 3]);
    assert!(s.fragments.is_empty());
}

#[test]
fn a_cond_computes_its_predicate_then_only_its_taken_branch() {
    // %3 = cond(%0; then reads %1, else reads %2); %4 reads %1 and %3 (the
    // last input first).
    let toy = Toy(vec![
        inputs(&[]),
        inputs(&[]),
        inputs(&[]),
        cond(0, &[1], &[2]),
        inputs(&[1, 3]),
    ]);
    let s = Schedule::new(&toy, &ids(&[4])).expect("schedule");
    // Then: %1 inside the branch, not again after it.
    assert_eq!(run(&s, 5, 0), [0, 1, 3, 4]);
    // Else: %2 inside the branch, %1 only for %4 after the cond.
    assert_eq!(run(&s, 5, 1), [0, 2, 3, 1, 4]);
}

#[test]
fn nested_conds_do_not_multiply_the_schedule() {
    // A chain of conds, each needed by both branches of the next through a
    // node of its own per branch: one fragment per branch, not 2^depth.
    let depth = 40u32;
    let mut needs = vec![inputs(&[])];
    let mut last = 0;
    for _ in 0..depth {
        let c = needs.len() as u32;
        needs.push(inputs(&[last]));
        needs.push(inputs(&[last]));
        needs.push(cond(0, &[c], &[c + 1]));
        last = c + 2;
    }
    let n = needs.len();
    let s = Schedule::new(&Toy(needs), &ids(&[last])).expect("schedule");
    assert_eq!(s.fragments.len(), 2 * depth as usize);
    assert!(s.nodes().count() < 8 * n, "{} items", s.nodes().count());
    let order = run(&s, n, 1);
    assert_eq!(order.len(), 1 + 2 * depth as usize);
    assert_eq!(order.last(), Some(&last));
}

#[test]
fn a_fetch_outside_the_graph_is_an_error() {
    let toy = Toy(vec![inputs(&[])]);
    assert!(Schedule::new(&toy, &ids(&[3])).is_err());
    let cycle = Toy(vec![inputs(&[1]), inputs(&[0])]);
    assert!(Schedule::new(&cycle, &ids(&[0])).is_err());
    assert_eq!(
        Schedule::new(&toy, &ids(&[0])).expect("schedule").items,
        [Item::Node(NodeId(0))]
    );
}
