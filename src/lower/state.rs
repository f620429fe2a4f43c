//! State and inlining: `assign` and `group` (top level only; one assign per
//! variable per step) and the inlining of user `fn`s at their call sites.

use super::args::Call;
use super::scope::Frame;
use super::{BResult, Builder, Value};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::op::Op;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::Item;
use std::collections::{HashMap, HashSet};

impl Builder<'_> {
    /// Inlines `fn name` with these argument values.
    pub(crate) fn inline_fn(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Value],
        span: Span,
    ) -> BResult<Value> {
        let Some(&index) = self.globals.get(name) else {
            return Err(self.unknown_name(name, name_span));
        };
        let program = self.program;
        let Item::Fn {
            name: def,
            params,
            body,
            ..
        } = &program.items[index]
        else {
            return Err(self.error(format!("`{name}` is not a function"), name_span));
        };
        if params.len() != args.len() {
            let list: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            return Err(self.report(
                Diag::error(
                    format!(
                        "`{name}` takes {} argument{} ({}), got {}",
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        list.join(", "),
                        args.len()
                    ),
                    span,
                )
                .with_label(def.span, "defined here"),
            ));
        }
        if self.inline_stack.iter().any(|n| n == name) {
            let mut chain = self.inline_stack.clone();
            chain.push(name.to_string());
            return Err(self.report(
                Diag::error(
                    format!("`{name}` calls itself: recursion is not supported (fns are inlined)"),
                    name_span,
                )
                .with_note(format!("call chain: {}", chain.join(" -> "))),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = params.iter().find(|p| !seen.insert(p.name.as_str())) {
            return Err(self.error(
                format!("parameter `{}` appears twice in `{name}`", dup.name),
                dup.span,
            ));
        }
        self.enter(span)?;
        let mut frame = Frame::default();
        for (p, v) in params.iter().zip(args) {
            frame.bind(&p.name, v.clone());
        }
        self.frames.push(frame);
        self.inline_stack.push(name.to_string());
        let result = self.block(body);
        self.inline_stack.pop();
        self.frames.pop();
        self.leave();
        result
    }

    /// `assign(v, e)`: `v` a variable, `e` of its dtype and shape.
    pub(crate) fn assign(&mut self, call: &Call) -> BResult<Value> {
        self.require_top_level("assign", call.span)?;
        let b = self.bind(call, &["variable", "value"], 2)?;
        let (v, e) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let target = self.expr(v)?;
        let var = match &target {
            Value::Node(0, id) => match &self.graph().node(*id).op {
                Op::Variable { name } => Some((name.clone(), *id)),
                _ => None,
            },
            _ => None,
        };
        let Some((var, var_id)) = var else {
            let what = match self.value_type(&target) {
                Some(ty) => format!("this is a {ty} node, not a variable"),
                None => "this is a literal, not a variable".into(),
            };
            return Err(self.report(
                Diag::error("assign: the first argument must be a variable", v.span)
                    .with_label(v.span, what),
            ));
        };
        let ty = self.graph().ty(var_id).clone();
        let value = self.expr(e)?;
        if let Some(got) = self.value_type(&value).filter(|got| *got != ty) {
            return Err(self.report(
                Diag::error(
                    format!("assign: `{var}` is {ty} but the value is {got}"),
                    e.span,
                )
                .with_label(v.span, format!("this is {ty}"))
                .with_label(e.span, format!("this is {got}")),
            ));
        }
        let id = self.operand_exact(&value, &ty, e.span, &format!("assign to `{var}`"))?;
        let id = self.add_typed(Op::Assign { var }, vec![id], ty, call.span)?;
        Ok(self.here(id))
    }

    /// `group(a, b, ...)`: runs its arguments; no value.
    pub(crate) fn group(&mut self, call: &Call) -> BResult<Value> {
        self.require_top_level("group", call.span)?;
        if let Some((key, _)) = call.named.first() {
            return Err(self.error("`group` takes positional arguments only", key.span));
        }
        if call.args.is_empty() {
            return Err(self.error("`group` needs at least one argument", call.span));
        }
        let mut inputs = Vec::new();
        for a in call.args {
            let v = self.expr(a)?;
            let id = match v {
                Value::Node(level, id) => self.lift(level, id),
                Value::Weak(w) => self.materialize(&w, w.kind.default_dtype(), a.span)?,
            };
            inputs.push(id);
        }
        self.check_assign_conflicts(&inputs, call.span)?;
        let id = self.add_typed(
            Op::Group,
            inputs,
            TensorType::scalar(DType::Bool),
            call.span,
        )?;
        Ok(self.here(id))
    }

    /// Two assigns to one variable reachable from `roots` (top-level nodes) would
    /// run in one step: an error.
    pub(crate) fn check_assign_conflicts(&mut self, roots: &[NodeId], span: Span) -> BResult<()> {
        let graph = &self.ctxs[0].graph;
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeId> = roots.to_vec();
        let mut assigns: HashMap<String, NodeId> = HashMap::new();
        while let Some(id) = stack.pop() {
            if id.index() >= graph.len() || !seen.insert(id) {
                continue;
            }
            let node = graph.node(id);
            if let Op::Assign { var } = &node.op {
                if let Some(&other) = assigns.get(var) {
                    if other != id {
                        let (a, b) = (graph.node(other).span, node.span);
                        let diag =
                            Diag::error(format!("`{var}` is assigned twice in one step"), span)
                                .with_label(a.min(b), "one assign")
                                .with_label(a.max(b), "another assign")
                                .with_note("all assigns of a step take effect together at its end");
                        return Err(self.report(diag));
                    }
                }
                assigns.insert(var.clone(), id);
            }
            stack.extend(node.inputs.iter().copied());
        }
        Ok(())
    }
}
