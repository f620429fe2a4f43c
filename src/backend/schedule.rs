//! What a step computes and in what order: one [`Schedule`] per executable (a
//! graph and its fetches, or a region and its result), built once by replaying a
//! demand-driven walk from the fetches and run every step by both backends, each
//! describing its unit of work through [`Deps`]. A `cond`'s [`Item::Cond`] names
//! one fragment per branch, so only the taken branch runs (`docs/design.md`).

use crate::diag::Diag;
use crate::ir::NodeId;
use std::collections::HashMap;

/// The computations of one step, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// The main line.
    pub(crate) items: Vec<Item>,
    /// The branch fragments [`Item::Cond`] refers to.
    pub(crate) fragments: Vec<Vec<Item>>,
}

/// One entry of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// Computes a node (skipped when already computed).
    Node(NodeId),
    /// Two independent nodes computed as one step (the JIT's sibling GEMMs;
    /// listed only where nothing is ever skipped).
    Pair([NodeId; 2]),
    /// A `cond` whose predicate is computed: runs fragment `branches[b]` of
    /// the branch it takes, then the node (all skipped when it is computed).
    Cond { node: NodeId, branches: [usize; 2] },
}

/// What a computation reads.
pub(crate) enum Need {
    /// These values, all of them.
    Inputs(Vec<NodeId>),
    /// A `cond`: its predicate, then the captures its taken branch uses
    /// (`[then, else]`).
    Cond {
        pred: NodeId,
        branches: [Vec<NodeId>; 2],
    },
}

/// A backend's view of a graph's computations.
pub(crate) trait Deps {
    /// Number of nodes.
    fn len(&self) -> usize;
    /// What node `id`'s computation reads (an error for a node that is not
    /// computed on its own).
    fn need(&self, id: NodeId) -> Result<Need, Diag>;
    /// Nodes to compute before `id` once its inputs are ready (once per
    /// step), though it does not read them.
    fn first(&self, _id: NodeId) -> &[NodeId] {
        &[]
    }
    /// A node to compute together with `id` (ready), given what is `done`.
    fn partner(&self, _id: NodeId, _done: &[bool]) -> Option<NodeId> {
        None
    }
    /// The nodes whose values `id`'s computation also produces (they read
    /// `id`, which may come after them).
    fn also(&self, _id: NodeId) -> &[NodeId] {
        &[]
    }
}

/// A backend running a schedule.
pub(crate) trait Runner {
    /// Whether node `id` is computed in this run.
    fn done(&self, id: NodeId) -> bool;
    /// Computes node `id`, whose inputs are computed.
    fn node(&mut self, id: NodeId) -> Result<(), Diag>;
    /// Computes two independent nodes, whose inputs are computed.
    fn pair(&mut self, ids: [NodeId; 2]) -> Result<(), Diag>;
    /// The branch `cond` node `id` takes (0: then, 1: else); its predicate
    /// is computed.
    fn branch(&self, id: NodeId) -> Result<usize, Diag>;
}

impl Schedule {
    /// The schedule of what `fetches` need, in order.
    pub(crate) fn new(deps: &impl Deps, fetches: &[NodeId]) -> Result<Schedule, Diag> {
        let n = deps.len();
        let mut b = Builder {
            deps,
            fragments: Vec::new(),
            of_cond: HashMap::new(),
            todo: Vec::new(),
        };
        let mut state = State::new(n);
        let mut items = Vec::new();
        for &fetch in fetches {
            b.walk(fetch, &mut state, Some(&mut items), None)?;
        }
        // Each fragment: from what the predicate needs, the walk of the
        // `cond` with the branch's captures, the `cond` itself left out.
        while let Some((cond, branch, index)) = b.todo.pop() {
            let Need::Cond { pred, .. } = deps.need(cond)? else {
                return Err(internal("a fragment of a node that is not a cond"));
            };
            let mut state = State::new(n);
            b.walk(pred, &mut state, None, None)?;
            let mut fragment = Vec::new();
            b.walk(cond, &mut state, Some(&mut fragment), Some(branch))?;
            b.fragments[index] = fragment;
        }
        Ok(Schedule {
            items,
            fragments: b.fragments,
        })
    }

    /// Every node listed, fragments included (in no particular order).
    pub(crate) fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.items
            .iter()
            .chain(self.fragments.iter().flatten())
            .flat_map(|item| match *item {
                Item::Node(id) | Item::Cond { node: id, .. } => [Some(id), None],
                Item::Pair([a, b]) => [Some(a), Some(b)],
            })
            .flatten()
    }

    /// Runs the schedule: every listed node not yet computed, a `cond`'s
    /// taken branch only.
    pub(crate) fn run(&self, runner: &mut impl Runner) -> Result<(), Diag> {
        // Open fragments: the items, the next position and their `cond`.
        let mut open: Vec<(&[Item], usize, NodeId)> = Vec::new();
        let (mut items, mut pos): (&[Item], usize) = (&self.items, 0);
        loop {
            let Some(item) = items.get(pos) else {
                let Some((outer, at, cond)) = open.pop() else {
                    return Ok(());
                };
                runner.node(cond)?;
                (items, pos) = (outer, at);
                continue;
            };
            pos += 1;
            match *item {
                Item::Node(id) if !runner.done(id) => runner.node(id)?,
                Item::Pair(ids) => runner.pair(ids)?,
                Item::Cond { node, branches } if !runner.done(node) => {
                    let b = runner.branch(node)?;
                    let fragment = branches
                        .get(b)
                        .and_then(|&f| self.fragments.get(f))
                        .ok_or_else(|| internal("a cond without its fragment"))?;
                    open.push((items, pos, node));
                    (items, pos) = (fragment, 0);
                }
                _ => {}
            }
        }
    }
}

/// The walk's state: per node, computed; per node, its `first` taken.
struct State {
    done: Vec<bool>,
    deferred: Vec<bool>,
    /// Per node: waiting for its inputs (what is above it on the stack
    /// is what it needs, so needing it again is a cycle).
    waiting: Vec<bool>,
}

impl State {
    fn new(n: usize) -> State {
        State {
            done: vec![false; n],
            deferred: vec![false; n],
            waiting: vec![false; n],
        }
    }
}

struct Builder<'d, D> {
    deps: &'d D,
    fragments: Vec<Vec<Item>>,
    /// Per `cond` and branch: its fragment.
    of_cond: HashMap<(NodeId, usize), usize>,
    /// Fragments to build: the `cond`, the branch, the index.
    todo: Vec<(NodeId, usize, usize)>,
}

impl<D: Deps> Builder<'_, D> {
    /// The fragment of `cond`'s branch `b` (queued when new).
    fn fragment(&mut self, cond: NodeId, b: usize) -> usize {
        *self.of_cond.entry((cond, b)).or_insert_with(|| {
            self.fragments.push(Vec::new());
            self.todo.push((cond, b, self.fragments.len() - 1));
            self.fragments.len() - 1
        })
    }

    /// Walks from `target`, appending to `out` (`None`: only the state
    /// changes). `taken`: `target` is a `cond` whose predicate is done, to be
    /// walked into this branch and left out.
    fn walk(
        &mut self,
        target: NodeId,
        state: &mut State,
        mut out: Option<&mut Vec<Item>>,
        taken: Option<usize>,
    ) -> Result<(), Diag> {
        let n = self.deps.len();
        if target.index() >= n {
            return Err(internal(format!(
                "node {target} is not in the graph ({n} nodes)"
            )));
        }
        let mut stack = vec![target];
        while let Some(&id) = stack.last() {
            if state.done[id.index()] {
                stack.pop();
                continue;
            }
            let (reads, cond) = match self.deps.need(id)? {
                Need::Inputs(reads) => (reads, false),
                Need::Cond { pred, branches } => match taken.filter(|_| id == target) {
                    Some(b) => {
                        let mut reads = vec![pred];
                        reads.extend(branches.get(b).into_iter().flatten());
                        (reads, false)
                    }
                    None => (vec![pred], true),
                },
            };
            let mut ready = true;
            for &dep in &reads {
                if dep.index() >= n {
                    return Err(internal(format!("input {dep} of {id} is not in the graph")));
                }
                if state.done[dep.index()] {
                    continue;
                }
                // A later input must read nothing (a constant), or the walk
                // could cycle.
                // (Or `id` is produced by `dep`'s computation, whose inputs
                // never need `id`.)
                if dep >= id
                    && !matches!(self.deps.need(dep)?, Need::Inputs(r) if r.is_empty())
                    && !self.deps.also(dep).contains(&id)
                {
                    return Err(internal(format!("input {dep} does not precede node {id}")));
                }
                if state.waiting[dep.index()] {
                    return Err(internal(format!("node {dep} needs itself through {id}")));
                }
                stack.push(dep);
                ready = false;
            }
            if !ready {
                state.waiting[id.index()] = true;
                continue;
            }
            if !cond && !std::mem::replace(&mut state.deferred[id.index()], true) {
                let before = stack.len();
                let first = self.deps.first(id);
                stack.extend(first.iter().filter(|r| !state.done[r.index()]));
                if stack.len() > before {
                    continue;
                }
            }
            stack.pop();
            // Before `id` counts as done: a partner must not read it.
            let partner = match cond || (taken.is_some() && id == target) {
                true => None,
                false => self.deps.partner(id, &state.done),
            };
            state.done[id.index()] = true;
            if cond {
                if let Some(out) = out.as_deref_mut() {
                    let branches = [self.fragment(id, 0), self.fragment(id, 1)];
                    out.push(Item::Cond { node: id, branches });
                }
                continue;
            }
            for also in self.deps.also(id) {
                state.done[also.index()] = true;
            }
            if taken.is_some() && id == target {
                continue;
            }
            let item = match partner {
                Some(b) => {
                    state.done[b.index()] = true;
                    Item::Pair([id, b])
                }
                None => Item::Node(id),
            };
            if let Some(out) = out.as_deref_mut() {
                out.push(item);
            }
        }
        Ok(())
    }
}

fn internal(message: impl Into<String>) -> Diag {
    Diag::internal("backend", message, None)
}

#[cfg(test)]
mod tests;
