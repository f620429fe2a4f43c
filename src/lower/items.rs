//! Items: declarations (placeholders, variables) with their initialisers,
//! top-level `let`s built on demand with cycle detection, `run` statements, and
//! the check that one step never assigns a variable twice.

use super::args::Call;
use super::control::GraphCtx;
use super::scope::{with_suggestion, Frame, GlobalState};
use super::values::CONSTRUCTORS;
use super::{BResult, Builder, Failed, Value};
use crate::diag::{Diag, Span};
use crate::ir::graph::{Graph, NodeId};
use crate::ir::infer::check_size;
use crate::ir::module::{PlaceholderDecl, RunStmt, VariableDecl};
use crate::ir::op::Op;
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::{Expr, ExprKind, Ident, Item, TypeExpr};
use std::collections::HashMap;

/// `repeat N`, `epochs E` or `every K`: the number and its span, if given.
type Count = Option<(u64, Span)>;

impl Builder<'_> {
    /// Builds every item: declarations first, then each `let` (and whatever it
    /// needs, on demand), then the names and the `run` statements.
    pub(crate) fn build_items(&mut self) {
        self.collect_globals();
        self.build_datasets();
        let program = self.program;
        for (index, item) in program.items.iter().enumerate() {
            if matches!(self.states[index], GlobalState::Failed) {
                continue;
            }
            let result = match item {
                Item::Placeholder {
                    name, ty, default, ..
                } => self.declare(name, ty, default.as_ref(), false),
                Item::Variable { name, ty, init, .. } => self.declare(name, ty, Some(init), true),
                _ => continue,
            };
            self.states[index] = match result {
                Ok(v) => GlobalState::Done(v),
                Err(Failed) => GlobalState::Failed,
            };
        }
        for (index, item) in program.items.iter().enumerate() {
            if self.aborted {
                return;
            }
            if let Item::Let { name, .. } = item {
                if matches!(self.states[index], GlobalState::Pending) {
                    let _ = self.global_value(index, name.span);
                }
            }
        }
        for (index, item) in program.items.iter().enumerate() {
            let name = match item {
                Item::Placeholder { name, .. }
                | Item::Variable { name, .. }
                | Item::Let { name, .. } => name,
                _ => continue,
            };
            if let GlobalState::Done(v) = self.states[index].clone() {
                if let Ok(id) = self.top_level_node(&v, item.span()) {
                    self.module.names.push((name.name.clone(), id));
                }
            }
        }
        for item in &program.items {
            if let Item::Run {
                fetches,
                repeat,
                epochs,
                every,
                span,
            } = item
            {
                let _ = self.run_stmt(fetches, (*repeat, *epochs), *every, *span);
            }
        }
    }

    /// The node of a top-level value (a literal `let` becomes a constant).
    fn top_level_node(&mut self, v: &Value, span: Span) -> BResult<NodeId> {
        match v {
            Value::Node(_, id) => Ok(*id),
            Value::Weak(w) => self.materialize(w, w.kind.default_dtype(), span),
        }
    }

    /// The value of top-level item `index`, built now if needed.
    pub(crate) fn global_value(&mut self, index: usize, use_span: Span) -> BResult<Value> {
        let program = self.program;
        match self.states[index].clone() {
            GlobalState::Done(v) => Ok(v),
            GlobalState::Failed => Err(Failed),
            GlobalState::Building => {
                let name = super::scope::item_name(&program.items[index])
                    .map(|n| n.name.clone())
                    .unwrap_or_default();
                let start = self.building.iter().position(|n| *n == name).unwrap_or(0);
                let mut chain = self.building[start..].to_vec();
                chain.push(name.clone());
                Err(self.report(
                    Diag::error(format!("`{name}` depends on itself"), use_span)
                        .with_note(format!("cycle: {}", chain.join(" -> "))),
                ))
            }
            GlobalState::Pending => match &program.items[index] {
                Item::Let { name, value, .. } => self.build_let(index, name, value),
                _ => Err(Failed),
            },
        }
    }

    /// Builds a top-level `let` at the top level, whatever is being built now.
    fn build_let(&mut self, index: usize, name: &Ident, value: &Expr) -> BResult<Value> {
        self.states[index] = GlobalState::Building;
        self.building.push(name.name.clone());
        let regions = self.ctxs.split_off(1);
        let frames = std::mem::replace(&mut self.frames, vec![Frame::default()]);
        let inlining = std::mem::take(&mut self.inline_stack);
        let const_only = std::mem::replace(&mut self.const_only, false);
        let result = self.expr(value);
        self.const_only = const_only;
        self.inline_stack = inlining;
        self.frames = frames;
        self.ctxs.extend(regions);
        self.building.pop();
        self.states[index] = match &result {
            Ok(v) => GlobalState::Done(v.clone()),
            Err(_) => GlobalState::Failed,
        };
        result
    }

    /// `f32[64, 10]` as a type: a known dtype and a size within limits.
    fn decl_type(&mut self, ty: &TypeExpr) -> BResult<TensorType> {
        let dtype = self.decl_dtype(ty)?;
        let mut dims = Vec::new();
        for &(d, span) in &ty.dims {
            let Some(d) = d else {
                return Err(self.error("a `?` size is only allowed in a placeholder's type", span));
            };
            match usize::try_from(d) {
                Ok(d) => dims.push(d),
                Err(_) => return Err(self.error(format!("dimension {d} is too large"), span)),
            }
        }
        let out = TensorType::new(dtype, dims);
        check_size(&out).map_err(|m| self.error(m, ty.span))?;
        Ok(out)
    }

    /// The dtype of a declared type.
    pub(crate) fn decl_dtype(&mut self, ty: &TypeExpr) -> BResult<DType> {
        let Some(dtype) = DType::from_name(&ty.dtype.name) else {
            let diag = Diag::error(
                format!(
                    "unknown dtype `{}`; the dtypes are f32, f64, i32 and bool",
                    ty.dtype.name
                ),
                ty.dtype.span,
            );
            let dtypes = ["f32", "f64", "i32", "bool"];
            return Err(self.report(with_suggestion(diag, &ty.dtype.name, dtypes)));
        };
        Ok(dtype)
    }

    /// A placeholder or variable: its node and its declaration.
    fn declare(
        &mut self,
        name: &Ident,
        ty: &TypeExpr,
        init: Option<&Expr>,
        variable: bool,
    ) -> BResult<Value> {
        let (ty, value) = if !variable && Self::is_fed_placeholder(ty, init) {
            self.fed_placeholder(name, ty, init)?
        } else {
            let ty = self.decl_type(ty)?;
            // Before the initialiser is made: it has the declared size.
            crate::ir::limits::check(&format!("`{}`", name.name), &ty, self.options.max_bytes)
                .map_err(|m| self.error(m, name.span))?;
            let value = match init {
                Some(e) => Some(self.init_value(e, &ty, &name.name)?),
                None => None,
            };
            (ty, value)
        };
        let n = name.name.clone();
        let (op, span) = (
            if variable {
                Op::Variable { name: n.clone() }
            } else {
                Op::Placeholder { name: n.clone() }
            },
            name.span,
        );
        let id = self.add_typed(op, Vec::new(), ty.clone(), span)?;
        match (variable, value) {
            (true, Some(init)) => self.module.variables.push(VariableDecl {
                name: n,
                ty,
                init,
                span,
            }),
            (true, None) => return Err(Failed),
            (false, default) => self.module.placeholders.push(PlaceholderDecl {
                name: n,
                ty,
                default,
                span,
            }),
        }
        Ok(Value::Node(0, id))
    }

    /// An initialiser: a value constructor (shape optional), a literal (a scalar
    /// broadcasts), or another constant expression; of the declared dtype.
    fn init_value(&mut self, e: &Expr, ty: &TensorType, var: &str) -> BResult<Tensor> {
        if let ExprKind::Call {
            callee,
            args,
            named,
        } = &e.kind
        {
            let user_fn = self
                .globals
                .get(&callee.name)
                .is_some_and(|&i| matches!(self.program.items[i], Item::Fn { .. }));
            if CONSTRUCTORS.contains(&callee.name.as_str()) && !user_fn {
                let call = Call {
                    name: &callee.name,
                    args,
                    named,
                    span: e.span,
                };
                return self.construct(&call, Some(ty));
            }
        }
        let ctxs = std::mem::replace(
            &mut self.ctxs,
            vec![GraphCtx::new(Graph::new(), 0, Vec::new())],
        );
        let frames = std::mem::replace(&mut self.frames, vec![Frame::default()]);
        let const_only = std::mem::replace(&mut self.const_only, true);
        let value = self.expr(e);
        let scratch = std::mem::replace(&mut self.ctxs, ctxs);
        self.frames = frames;
        self.const_only = const_only;
        let mismatch = |got: &dyn std::fmt::Display| {
            Diag::error(
                format!("`{var}` is declared {ty} but its initialiser is {got}"),
                e.span,
            )
        };
        match value? {
            Value::Weak(w) => {
                let t = w
                    .to_tensor(ty.dtype)
                    .map_err(|m| self.report(mismatch(&w.kind.describe()).with_note(m)))?;
                if w.shape == ty.shape {
                    Ok(t)
                } else if w.shape.rank() == 0 {
                    Ok(Tensor::full(ty, w.data.first().copied().unwrap_or(0.0)))
                } else {
                    let got = TensorType {
                        dtype: ty.dtype,
                        shape: w.shape.clone(),
                    };
                    Err(self.report(mismatch(&format!("an array of shape {}", got.shape))))
                }
            }
            Value::Node(_, id) => {
                let node = scratch.first().map(|c| c.graph.node(id).clone());
                match node.map(|n| n.op) {
                    Some(Op::Const(t)) if t.ty() == *ty => Ok((*t).clone()),
                    Some(Op::Const(t)) if t.dtype() == ty.dtype && t.len() == 1 && t.shape().is_empty() => {
                        Ok(Tensor::full(ty, t.to_f64_vec().first().copied().unwrap_or(0.0)))
                    }
                    Some(Op::Const(t)) => Err(self.report(mismatch(&t.ty()))),
                    _ => Err(self.error(
                        format!("the initialiser of `{var}` must be a constant expression (a literal or a value constructor)"),
                        e.span,
                    )),
                }
            }
        }
    }

    fn run_stmt(
        &mut self,
        fetches: &[Ident],
        (repeat, epochs): (Count, Count),
        every: Option<(u64, Span)>,
        span: Span,
    ) -> BResult<()> {
        let names: HashMap<String, NodeId> = self.module.names.iter().cloned().collect();
        let mut out = Vec::new();
        let mut ids = Vec::new();
        for f in fetches {
            match (names.get(&f.name), self.globals.get(&f.name)) {
                (Some(&id), _) => {
                    out.push((f.name.clone(), f.span));
                    ids.push(id);
                }
                (None, Some(&index)) => {
                    if let Item::Fn { .. } = self.program.items[index] {
                        return Err(self.error(
                            format!("`{}` is a fn; only nodes can be fetched", f.name),
                            f.span,
                        ));
                    }
                    return Err(Failed);
                }
                (None, None) => {
                    let diag = Diag::error(format!("unknown name `{}` in `run`", f.name), f.span);
                    let candidates = names.keys().map(String::as_str);
                    return Err(self.report(with_suggestion(diag, &f.name, candidates)));
                }
            }
        }
        if let Some((0, s)) = repeat {
            return Err(self.error("`repeat 0` runs no step; repeat at least once", s));
        }
        if let Some((0, s)) = epochs {
            return Err(self.error("`epochs 0` runs no step; run at least one epoch", s));
        }
        if let Some((0, s)) = every {
            return Err(self.error("`every 0` is not allowed; print every 1 or more steps", s));
        }
        self.check_assign_conflicts(&ids, span)?;
        self.module.runs.push(RunStmt {
            fetches: out,
            steps: repeat.map_or(1, |(n, _)| n),
            every: every.map(|(k, _)| k),
            epochs: epochs.map(|(e, _)| e),
            span,
        });
        Ok(())
    }
}
