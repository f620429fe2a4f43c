//! The arena on a whole executable: slots of values live at once are
//! disjoint, one allocation kept across steps, the pool does not grow,
//! results as the interpreter's.

use super::assert_results;
use super::no_inputs;
use crate::backend::interp;
use crate::backend::jit::arena::tests::network;
use crate::backend::jit::arena::{disjoint, ALIGN};
use crate::backend::jit::{compile, Options};
use crate::ir::Graph;

#[test]
fn an_executable_keeps_one_arena_whose_live_slots_are_disjoint() {
    let mut g = Graph::new();
    let fetches = network(&mut g);
    let inputs = no_inputs();
    let expected = interp::run_step(&g, &fetches, &inputs).expect("interp");
    let exe = compile(&g, &fetches, Options::checked()).expect("compile");
    let plan = exe.arena_plan().expect("a plan: no cond or fold");
    assert!(
        plan.intervals.len() >= 4,
        "{} arena values",
        plan.intervals.len()
    );
    assert!(disjoint(&plan.intervals));
    for s in &plan.intervals {
        assert_eq!(s.offset % ALIGN, 0);
        assert!(s.offset + s.bytes <= plan.size);
        assert!(!exe.fetched[s.node.index()], "a fetch is in the arena");
    }
    let mut address = None;
    let mut pooled = None;
    for step in 0..4 {
        let got = exe.run(&inputs).expect("jit");
        assert_results(&expected, &got);
        let now = exe.arena_address().expect("the arena is allocated");
        assert_eq!(
            *address.get_or_insert(now),
            now,
            "step {step}: the arena moved"
        );
        exe.recycle(got.fetched);
        let n = exe.pooled_buffers();
        assert_eq!(*pooled.get_or_insert(n), n, "step {step}: the pool grew");
    }
}
