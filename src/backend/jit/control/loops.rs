//! A loop of `fold` or `scan` in progress: the row of `xs` copied into a
//! reused buffer, the body run on it and the state.

use super::super::codegen::internal;
use super::super::exec::{at, pooled, Env, Executable, Scratch};
use super::super::tensors::{copy_row, Val};
use super::{bind, get, Code};
use crate::diag::Diag;
use crate::ir::{Node, Tensor, TensorType};
use std::sync::Arc;

/// A loop (`fold`, `scan`) in progress: `xs` and its row count, the body's
/// `x` type (checked against a row), the parameters (the state, `x` bound
/// only during a step, the captures the body uses), whether the body's
/// result takes a pool buffer every run (only then may it go back to the
/// pool, else the pool would grow), the row buffer and the body's scratch.
pub(crate) struct Loop<'m, 's> {
    pub(crate) xs: &'m Tensor,
    pub(crate) steps: usize,
    pub(crate) params: Vec<Option<Val<'s>>>,
    pub(crate) result_pooled: bool,
    x_ty: &'m TensorType,
    row: Option<Arc<Tensor>>,
    scratch: Scratch<'s>,
}

impl<'s> Loop<'_, 's> {
    /// Runs the body once on `xs[t]` and the current state: its result.
    pub(crate) fn step(
        &mut self,
        exe: &Executable,
        node: &Node,
        env: Env<'_, 's>,
        t: usize,
    ) -> Result<Val<'s>, Diag> {
        // The row buffer is reused unless the body returned it (still shared).
        let mut x = match self.row.take() {
            Some(x) if Arc::strong_count(&x) == 1 => x,
            _ => Arc::new(exe.pool.take(self.x_ty)),
        };
        let buffer = Arc::get_mut(&mut x).ok_or_else(|| internal("shared row buffer"))?;
        copy_row(self.xs, t, buffer).ok_or_else(|| at(node, format!("cannot copy xs[{t}]")))?;
        self.params[1] = Some(Val::Shared(Arc::clone(&x)));
        let result = exe.run_region(
            Env {
                inputs: env.inputs,
                params: &self.params,
                word: crate::ir::philox::loop_word(env.word, self.steps, t),
            },
            &mut self.scratch,
        );
        self.params[1] = None;
        self.row = Some(x);
        result
    }

    /// The row buffer back into the pool.
    pub(crate) fn finish(&mut self, exe: &Executable) {
        if let Some(Ok(x)) = self.row.take().map(Arc::try_unwrap) {
            exe.pool.give(x);
        }
    }
}

/// The start of loop `node` (inputs `[init, xs, captures...]`, the
/// body's params `(state, x, captures...)`).
pub(crate) fn start<'m, 's>(
    body: &'m Code,
    node: &Node,
    memo: &'m [Option<Val<'s>>],
) -> Result<Loop<'m, 's>, Diag> {
    let exe = &body.exe;
    let [init, xs, ref captures @ ..] = node.inputs[..] else {
        return Err(at(node, "needs inputs [init, xs, captures...]"));
    };
    let xs: &Tensor = get(memo, node, xs)?;
    let Some((&steps, row)) = xs.shape().split_first() else {
        return Err(at(node, "xs must have at least one axis"));
    };
    let x_ty = exe
        .graph
        .params
        .get(1)
        .ok_or_else(|| at(node, "the body takes no x"))?;
    if x_ty.dtype != xs.dtype() || x_ty.shape.dims() != row {
        return Err(at(
            node,
            format!("xs is {} but the body takes {x_ty}", xs.ty()),
        ));
    }
    let mut params = vec![Some(get(memo, node, init)?.clone()), None];
    params.extend(bind(
        memo,
        node,
        captures,
        body.used.get(2..).unwrap_or(&[]),
    )?);
    let result_pooled = exe
        .fetches
        .first()
        .is_some_and(|r| pooled(exe.steps.get(r.index())));
    Ok(Loop {
        xs,
        steps,
        params,
        result_pooled,
        x_ty,
        row: None,
        scratch: Scratch::new(exe),
    })
}
