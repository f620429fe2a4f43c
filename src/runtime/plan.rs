//! Step plans: what one set of fetches needs, checked once and cached by the session.
//!
//! A plan resolves the fetch names to nodes, collects the placeholders the step
//! reads (walking inputs transitively; `cond`/`fold` captures are inputs of their
//! node, and regions are walked too), and rejects a step that would assign the
//! same variable twice.

use crate::diag::{Diag, Span};
use crate::ir::{Graph, Module, NodeId, Op};
use std::collections::{BTreeSet, HashMap};

/// What one step with a given list of fetches needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The fetch names, in the order asked.
    pub fetch_names: Vec<String>,
    /// The node of each fetch.
    pub fetch_nodes: Vec<NodeId>,
    /// Whether each fetch is a `group` (it runs, but has no value to print).
    pub fetch_is_group: Vec<bool>,
    /// Placeholders the step reads, in declaration order.
    pub placeholders: Vec<String>,
    /// Variables the step may assign, in declaration order.
    pub assigned: Vec<String>,
}

impl Plan {
    /// Builds and checks the plan of one step fetching `fetches`.
    pub fn new(module: &Module, fetches: &[&str]) -> Result<Plan, Diag> {
        let mut fetch_nodes = Vec::with_capacity(fetches.len());
        for name in fetches {
            match module.lookup(name) {
                Some(id) if id.index() < module.graph.len() => fetch_nodes.push(id),
                _ => return Err(unknown_fetch(module, name)),
            }
        }
        let fetch_is_group = fetch_nodes
            .iter()
            .map(|&id| matches!(module.graph.node(id).op, Op::Group))
            .collect();

        let mut walk = Walk::default();
        walk.graph(&module.graph, &fetch_nodes)?;

        let placeholders = module
            .placeholders
            .iter()
            .filter(|p| walk.placeholders.contains(&p.name))
            .map(|p| p.name.clone())
            .collect();
        let assigned = module
            .variables
            .iter()
            .filter(|v| walk.assigns.contains_key(&v.name))
            .map(|v| v.name.clone())
            .collect();
        Ok(Plan {
            fetch_names: fetches.iter().map(|s| s.to_string()).collect(),
            fetch_nodes,
            fetch_is_group,
            placeholders,
            assigned,
        })
    }
}

/// "unknown fetch `x`", listing what can be fetched (and pointing at the first few
/// of those nodes, so that the error shows the file).
pub fn unknown_fetch(module: &Module, name: &str) -> Diag {
    let names: Vec<&str> = module.names.iter().map(|(n, _)| n.as_str()).collect();
    let mut diag = Diag::plain(format!("unknown fetch `{name}`"));
    for (fetchable, id) in module.names.iter().take(super::feeds::MAX_LABELS) {
        if let Some(node) = module.graph.nodes.get(id.index()) {
            diag = diag.with_label(node.span, format!("`{fetchable}` can be fetched"));
        }
    }
    if names.is_empty() {
        diag.with_note("this program has no fetchable names")
    } else {
        diag.with_note(format!("fetchable names: {}", names.join(", ")))
    }
}

/// The transitive walk over the nodes a step computes.
#[derive(Default)]
struct Walk {
    placeholders: BTreeSet<String>,
    /// Variable name -> span of the first assign found.
    assigns: HashMap<String, Span>,
}

impl Walk {
    /// Visits every node of `graph` reachable from `roots` (and the regions they hold).
    fn graph(&mut self, graph: &Graph, roots: &[NodeId]) -> Result<(), Diag> {
        let mut seen = vec![false; graph.len()];
        let mut stack: Vec<NodeId> = roots.to_vec();
        // Visit in ascending id order so that "first assign" is the earlier one in
        // the graph, whatever order the fetches were given in.
        let mut reached = Vec::new();
        while let Some(id) = stack.pop() {
            let Some(flag) = seen.get_mut(id.index()) else {
                return Err(Diag::internal(
                    "runtime plan",
                    format!("node {id} is outside its graph"),
                    None,
                ));
            };
            if *flag {
                continue;
            }
            *flag = true;
            reached.push(id);
            stack.extend(graph.node(id).inputs.iter().copied());
        }
        reached.sort();
        for id in reached {
            let node = graph.node(id);
            match &node.op {
                Op::Placeholder { name } => {
                    self.placeholders.insert(name.clone());
                }
                Op::Assign { var } => {
                    if let Some(&first) = self.assigns.get(var) {
                        return Err(Diag::error(
                            format!("`{var}` is assigned twice in one step"),
                            node.span,
                        )
                        .with_label(first, "first assigned here")
                        .with_note(
                            "all assigns of a step take effect together at its end; \
                             fetch them in separate `run` statements",
                        ));
                    }
                    self.assigns.insert(var.clone(), node.span);
                }
                op => {
                    for (_, region) in op.regions() {
                        self.graph(region, &region.results)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(source: &str) -> Module {
        crate::compile(source, std::path::Path::new(".")).unwrap()
    }

    /// `g` groups both assigns of `w` (the builder refuses that; plans must too).
    fn double_assign_module() -> Module {
        let mut m = module(
            "placeholder x: f32[2]; variable w: f32[2] = 0;
             let a = assign(w, w + x); let b = assign(w, w * x); let g = group(a);",
        );
        let (b, g) = (m.lookup("b").unwrap(), m.lookup("g").unwrap());
        m.graph.nodes[g.index()].inputs.push(b);
        m
    }

    /// The span of the node named `name`.
    fn span(m: &Module, name: &str) -> Span {
        m.graph.node(m.lookup(name).unwrap()).span
    }

    #[test]
    fn single_assign_plans() {
        let m = double_assign_module();
        let plan = Plan::new(&m, &["a"]).unwrap();
        assert_eq!(plan.placeholders, vec!["x".to_string()]);
        assert_eq!(plan.assigned, vec!["w".to_string()]);
        assert_eq!(plan.fetch_is_group, vec![false]);
        let plan = Plan::new(&m, &["w"]).unwrap();
        assert!(plan.placeholders.is_empty());
        assert!(plan.assigned.is_empty());
    }

    #[test]
    fn double_assign_through_group_is_an_error() {
        let m = double_assign_module();
        let err = Plan::new(&m, &["g"]).unwrap_err();
        assert_eq!(err.message, "`w` is assigned twice in one step");
        assert_eq!(err.span, Some(span(&m, "b")));
        assert_eq!(err.labels[0].span, span(&m, "a"));
    }

    #[test]
    fn double_assign_through_two_fetches_is_an_error() {
        let m = double_assign_module();
        let err = Plan::new(&m, &["b", "a"]).unwrap_err();
        assert_eq!(err.message, "`w` is assigned twice in one step");
        // The same assign fetched twice is one assign.
        assert!(Plan::new(&m, &["a", "a"]).is_ok());
    }

    #[test]
    fn unknown_fetch_lists_names() {
        let m = double_assign_module();
        let err = Plan::new(&m, &["nope"]).unwrap_err();
        assert_eq!(err.message, "unknown fetch `nope`");
        assert_eq!(
            err.notes,
            vec!["fetchable names: x, w, a, b, g".to_string()]
        );
    }

    #[test]
    fn placeholders_inside_regions_and_captures() {
        // The placeholder `x` reaches the cond as a capture of its then branch.
        let m = module("placeholder p: bool[]; placeholder x: f32[]; let c = cond(p, x, 0.0);");
        let plan = Plan::new(&m, &["c"]).unwrap();
        assert_eq!(plan.placeholders, vec!["p".to_string(), "x".to_string()]);
    }
}
