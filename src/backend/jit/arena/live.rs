//! The positions of a step's values in its schedule, for the arena plan:
//! where each is computed and where its last reader runs. A side output
//! comes with its reduction, a kernel's other outputs with it; two sibling
//! matmuls take two positions, both outputs live from the first, every input
//! of either to the second (no slot is reused while either runs).

use crate::backend::jit::exec::Executable;
use crate::backend::schedule::Item;

/// The number of positions of one step, and per node the position where it
/// is computed and where its last reader runs (`usize::MAX`: never).
pub(super) struct Live {
    pub(super) len: usize,
    pub(super) first: Vec<usize>,
    pub(super) last: Vec<usize>,
}

impl Executable {
    /// The positions of a schedule without `cond`s (`None` with one: what a
    /// step computes then depends on its predicates).
    pub(super) fn live(&self) -> Option<Live> {
        let n = self.graph.len();
        let mut remaining = self.uses.clone();
        let mut w = Live {
            len: 0,
            first: vec![usize::MAX; n],
            last: vec![usize::MAX; n],
        };
        for item in &self.schedule.items {
            let ids = match item {
                Item::Node(id) => std::slice::from_ref(id),
                Item::Pair(ids) => &ids[..],
                Item::Cond { .. } => return None,
            };
            let pos = w.len;
            w.len += ids.len();
            let end = w.len - 1;
            for &id in ids {
                w.first[id.index()] = pos;
                for side in crate::backend::schedule::Deps::also(self, id) {
                    w.first[side.index()] = pos;
                }
            }
            for &dep in ids.iter().flat_map(|id| self.step_deps(id.index())) {
                let i = dep.index();
                remaining[i] = remaining[i].saturating_sub(1);
                if remaining[i] == 0 {
                    w.last[i] = end;
                }
            }
        }
        Some(w)
    }
}
