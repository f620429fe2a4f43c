//! `step()` and the per-step random ops: `random_normal`, `random_uniform`,
//! `dropout` (the generator: `ir::philox`; the values: `kernels::eval`).
//!
//! `step()` is always built at the top level, so a region captures it like
//! any outer node. Inside a `fold` body a random op also reads the loop word
//! (`Op::Iteration`), so each iteration draws fresh values. A call without `seed=` gets a seed from its position in
//! the source and from how many times that call was built before (each
//! inlined call of a `fn` gets its own), so unseeded calls differ.

use super::args::Call;
use super::literals::{Weak, WeakKind};
use super::{BResult, Builder, Value};
use crate::diag::{Diag, Span};
use crate::ir::graph::NodeId;
use crate::ir::op::{BinaryOp, Op, RandomKind};
use crate::ir::types::{DType, TensorType};
use crate::syntax::ast::Expr;
use std::rc::Rc;

impl Builder<'_> {
    /// Builds `call` when it is `step` or a random op.
    pub(crate) fn random_call(&mut self, call: &Call) -> BResult<Option<Value>> {
        let kind = match call.name {
            "step" => {
                if let Some(extra) = call.args.first() {
                    return Err(self.error("`step()` takes no arguments", extra.span));
                }
                self.bind(call, &[], 0)?;
                self.not_in_initialiser(call)?;
                let id = self.step_node(call.span)?;
                return Ok(Some(Value::Node(0, id)));
            }
            "random_normal" => RandomKind::Normal,
            "random_uniform" => RandomKind::Uniform,
            "dropout" => RandomKind::Dropout,
            _ => return Ok(None),
        };
        self.not_in_initialiser(call)?;
        let value = match kind {
            RandomKind::Normal => self.random_normal(call)?,
            RandomKind::Uniform => self.random_uniform(call)?,
            RandomKind::Dropout => self.dropout(call)?,
        };
        Ok(Some(value))
    }

    /// `random_normal(shape, seed=, std=1, dtype=f32)`: `std` may be any
    /// expression (the op draws standard normals; `std` multiplies them).
    fn random_normal(&mut self, call: &Call) -> BResult<Value> {
        let b = self.bind(call, &["shape", "seed", "std", "dtype"], 1)?;
        let z = self.draw(call, RandomKind::Normal, b[0], b[1], b[3])?;
        match b[2] {
            None => Ok(z),
            Some(std) => {
                let v = self.expr(std)?;
                self.binary(BinaryOp::Mul, (z, call.span), (v, std.span), call.span)
            }
        }
    }

    /// `random_uniform(shape, lo=0, hi=1, seed=, dtype=f32)`: `lo + u * (hi - lo)`
    /// with `u` in [0, 1), as TensorFlow computes it.
    fn random_uniform(&mut self, call: &Call) -> BResult<Value> {
        let b = self.bind(call, &["shape", "lo", "hi", "seed", "dtype"], 1)?;
        let u = self.draw(call, RandomKind::Uniform, b[0], b[3], b[4])?;
        if b[1].is_none() && b[2].is_none() {
            return Ok(u);
        }
        let span = call.span;
        let one = |s| Value::Weak(Rc::new(Weak::scalar(WeakKind::Int, s)));
        let (lo, lo_span) = match b[1] {
            Some(e) => (self.expr(e)?, e.span),
            None => (one(0.0), span),
        };
        let (hi, hi_span) = match b[2] {
            Some(e) => (self.expr(e)?, e.span),
            None => (one(1.0), span),
        };
        let width = self.binary(BinaryOp::Sub, (hi, hi_span), (lo.clone(), lo_span), span)?;
        let scaled = self.binary(BinaryOp::Mul, (u, span), (width, hi_span), span)?;
        self.binary(BinaryOp::Add, (lo, lo_span), (scaled, span), span)
    }

    /// `dropout(x, rate, seed=)`: inverted dropout of a float tensor.
    fn dropout(&mut self, call: &Call) -> BResult<Value> {
        let b = self.bind(call, &["x", "rate", "seed"], 2)?;
        let (x, rate) = (self.arg(&b, 0)?, self.arg(&b, 1)?);
        let xv = self.tensor_arg(x)?;
        let x_ty = self.graph().ty(xv).clone();
        if !x_ty.dtype.is_float() {
            return Err(self.error(
                format!("dropout: x must be a float tensor, but it is {x_ty}"),
                x.span,
            ));
        }
        let rv = self.expr(rate)?;
        if let Value::Weak(w) = &rv {
            if let (0, Some(&r)) = (w.shape.rank(), w.data.first()) {
                if !(0.0..1.0).contains(&r) {
                    return Err(self.error(
                        format!("dropout: the rate must be in [0, 1), but it is {r}"),
                        rate.span,
                    ));
                }
            }
        }
        let rid = self.operand_as(&rv, x_ty.dtype, rate.span)?;
        let r_ty = self.graph().ty(rid).clone();
        if r_ty != TensorType::new(x_ty.dtype, vec![]) {
            return Err(self.report(
                Diag::error(
                    format!(
                        "dropout: the rate must be a {}[] scalar, but it is {r_ty}",
                        x_ty.dtype
                    ),
                    rate.span,
                )
                .with_label(x.span, format!("this is {x_ty}")),
            ));
        }
        let seed = self.seed(call, b[2])?;
        let step = self.step_operand(call.span)?;
        let op = Op::Random {
            kind: RandomKind::Dropout,
            seed,
        };
        let mut inputs = vec![(xv, x.span), (rid, rate.span), (step, call.span)];
        // A share of a split batch: keyed by global row (`split.rs`); inside a
        // `fold` body the loop word follows (the first row then always given).
        let word = self.loop_word(call.span)?;
        let row = self.split_first_row(xv);
        if row.is_some() || word.is_some() {
            let row =
                i32::try_from(row.unwrap_or(0)).map_err(|_| self.error("too many rows", x.span))?;
            let first = crate::ir::tensor::Tensor::scalar(DType::I32, f64::from(row));
            inputs.push((self.constant(first, call.span)?, call.span));
        }
        inputs.extend(word.map(|w| (w, call.span)));
        let id = self.add_node(op, &inputs, call.span)?;
        Ok(self.here(id))
    }

    /// The standard draw of `random_normal`/`random_uniform`: shape, seed, dtype.
    fn draw(
        &mut self,
        call: &Call,
        kind: RandomKind,
        shape: Option<&Expr>,
        seed: Option<&Expr>,
        dtype: Option<&Expr>,
    ) -> BResult<Value> {
        let shape = shape.ok_or(super::Failed)?;
        let dims = self.sizes_attr(call.name, "shape", shape, true)?;
        let dtype = match dtype {
            Some(e) => {
                let d = self.dtype_attr(call.name, e)?;
                if !d.is_float() {
                    return Err(self.error(
                        format!("{}: the dtype must be f32 or f64, not {d}", call.name),
                        e.span,
                    ));
                }
                d
            }
            None => DType::F32,
        };
        let ty = TensorType::new(dtype, dims);
        if let Err(m) = crate::ir::infer::check_size(&ty) {
            return Err(self.error(m, call.span));
        }
        let seed = self.seed(call, seed)?;
        let step = self.step_operand(call.span)?;
        let mut inputs = vec![step];
        inputs.extend(self.loop_word(call.span)?);
        let id = self.add_typed(Op::Random { kind, seed }, inputs, ty, call.span)?;
        Ok(self.here(id))
    }

    /// `seed=` as given, or one derived from the call's position (see the header).
    fn seed(&mut self, call: &Call, seed: Option<&Expr>) -> BResult<u64> {
        if let Some(e) = seed {
            return Ok(self.int_attr(call.name, "seed", e)? as u64);
        }
        let count = self.random_sites.entry(call.span.start).or_insert(0);
        let occurrence = *count;
        *count += 1;
        Ok(default_seed(call.span.start as u64, occurrence))
    }

    /// `step()` as an operand of the current graph (captured in a region).
    fn step_operand(&mut self, span: Span) -> BResult<NodeId> {
        let id = self.step_node(span)?;
        self.operand(&Value::Node(0, id), span)
    }

    /// Inside a `fold` body (at any depth, through `cond` branches too), an
    /// `Op::Iteration` node of the current graph: random ops read it so each
    /// iteration draws fresh values. `None` outside every `fold`.
    fn loop_word(&mut self, span: Span) -> BResult<Option<NodeId>> {
        if !self.in_fold() {
            return Ok(None);
        }
        let ty = TensorType::new(DType::I32, vec![]);
        self.add_typed(Op::Iteration, Vec::new(), ty, span)
            .map(Some)
    }

    /// A `step` node at the top level.
    fn step_node(&mut self, span: Span) -> BResult<NodeId> {
        self.node_count += 1;
        let ty = TensorType::new(DType::I32, vec![]);
        Ok(self.ctxs[0].graph.add(Op::Step, vec![], ty, span))
    }

    fn not_in_initialiser(&mut self, call: &Call) -> BResult<()> {
        if self.const_only {
            return Err(self.error(
                format!(
                    "an initialiser must be a constant expression, but `{}({})` changes every step",
                    call.name,
                    if call.name == "step" { "" } else { "..." }
                ),
                call.span,
            ));
        }
        Ok(())
    }
}

/// The seed of an unseeded call at byte `offset`, built for the
/// `occurrence`-th time: a splitmix64 mix of both, top bit set.
pub(crate) fn default_seed(offset: u64, occurrence: u64) -> u64 {
    let mut z = (offset << 24 ^ occurrence).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) | 1 << 63
}
