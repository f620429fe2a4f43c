//! Backward rules of elementwise ops. `g` is the adjoint of the output `y`;
//! broadcasting inputs get their contribution summed back to their own shape.
//! Non-differentiable points follow JAX (the reference the programs are checked
//! against): `abs'(0) = 1`, `relu'(0) = 0`, and ties of `maximum`/`minimum`
//! split the gradient equally between the two inputs.

use super::emit::Emit;
use crate::diag::Diag;
use crate::ir::{BinaryOp, DType, Node, NodeId, UnaryOp};

type Contributions = Result<Vec<Option<NodeId>>, Diag>;

/// Input `k` of the forward node, or an internal error.
pub(crate) fn input(e: &Emit, node: &Node, k: usize) -> Result<NodeId, Diag> {
    node.inputs
        .get(k)
        .copied()
        .ok_or_else(|| e.bug(format!("{} has no input {k}", node.op.name())))
}

pub(crate) fn unary(e: &mut Emit, op: UnaryOp, y: NodeId, node: &Node, g: NodeId) -> Contributions {
    let x = input(e, node, 0)?;
    let dtype = e.dtype(x);
    let dx = match op {
        // Logical not: bool, no gradient.
        UnaryOp::Not => return Ok(vec![]),
        // y = -x: dx = -g
        UnaryOp::Neg => e.neg(g),
        // y = exp(x): dx = g * y
        UnaryOp::Exp => e.mul(g, y)?,
        // y = log(x): dx = g / x
        UnaryOp::Log => e.div(g, x)?,
        // y = sqrt(x): dx = g / (2 y)
        UnaryOp::Sqrt => {
            let half = e.scale(g, 0.5)?;
            e.div(half, y)?
        }
        // y = |x|: dx = g where x >= 0, -g elsewhere (JAX: abs'(0) = 1)
        UnaryOp::Abs => {
            let zero = e.scalar(dtype, 0.0);
            let nonneg = e.binary(BinaryOp::Ge, x, zero)?;
            let minus = e.neg(g);
            e.select(nonneg, g, minus)?
        }
        // y = tanh(x): dx = g * (1 - y^2)
        UnaryOp::Tanh => {
            let one = e.scalar(dtype, 1.0);
            let y2 = e.mul(y, y)?;
            let d = e.sub(one, y2)?;
            e.mul(g, d)?
        }
        // y = sigmoid(x): dx = g * y * (1 - y)
        UnaryOp::Sigmoid => {
            let one = e.scalar(dtype, 1.0);
            let rest = e.sub(one, y)?;
            let d = e.mul(y, rest)?;
            e.mul(g, d)?
        }
        // y = relu(x): dx = g where x > 0, else 0 (relu'(0) = 0)
        UnaryOp::Relu => {
            let zero = e.scalar(dtype, 0.0);
            let positive = e.binary(BinaryOp::Gt, x, zero)?;
            e.select(positive, g, zero)?
        }
        // y = sin(x): dx = g * cos(x)
        UnaryOp::Sin => {
            let c = e.unary(UnaryOp::Cos, x);
            e.mul(g, c)?
        }
        // y = cos(x): dx = -g * sin(x)
        UnaryOp::Cos => {
            let s = e.unary(UnaryOp::Sin, x);
            let d = e.mul(g, s)?;
            e.neg(d)
        }
    };
    Ok(vec![Some(dx)])
}

pub(crate) fn binary(
    e: &mut Emit,
    op: BinaryOp,
    y: NodeId,
    node: &Node,
    g: NodeId,
) -> Contributions {
    if op.is_comparison() || op.is_logical() {
        return Ok(vec![]);
    }
    let (a, b) = (input(e, node, 0)?, input(e, node, 1)?);
    let dtype = e.dtype(a);
    let (da, db) = match op {
        // y = a + b: da = g, db = g
        BinaryOp::Add => (g, g),
        // y = a - b: da = g, db = -g
        BinaryOp::Sub => (g, e.neg(g)),
        // y = a * b: da = g * b, db = g * a
        BinaryOp::Mul => (e.mul(g, b)?, e.mul(g, a)?),
        // y = a / b: da = g / b, db = -g * y / b
        BinaryOp::Div => {
            let da = e.div(g, b)?;
            let gy = e.mul(g, y)?;
            let q = e.div(gy, b)?;
            (da, e.neg(q))
        }
        // y = a ** b: da = g * b * a^(b-1) (0 where b == 0),
        //             db = g * y * log(a) (log(a) taken as 0 where a == 0), as in JAX
        BinaryOp::Pow => {
            let zero = e.scalar(dtype, 0.0);
            let one = e.scalar(dtype, 1.0);
            let b_minus_1 = e.sub(b, one)?;
            let power = e.binary(BinaryOp::Pow, a, b_minus_1)?;
            let slope = e.mul(b, power)?;
            let b_zero = e.binary(BinaryOp::Eq, b, zero)?;
            let slope = e.select(b_zero, zero, slope)?;
            let da = e.mul(g, slope)?;
            let a_zero = e.binary(BinaryOp::Eq, a, zero)?;
            let safe_a = e.select(a_zero, one, a)?;
            let log_a = e.unary(UnaryOp::Log, safe_a);
            let gy = e.mul(g, y)?;
            (da, e.mul(gy, log_a)?)
        }
        // y = maximum(a, b) (or minimum): the gradient goes to the input equal to
        // y; on a tie each gets half: da = g * [a == y] * (1/2 if b == y else 1)
        BinaryOp::Maximum | BinaryOp::Minimum => {
            let da = chooser(e, g, a, b, y, dtype)?;
            let db = chooser(e, g, b, a, y, dtype)?;
            (da, db)
        }
        _ => return Ok(vec![]),
    };
    let da = e.sum_to(da, &e.dims(a))?;
    let db = e.sum_to(db, &e.dims(b))?;
    Ok(vec![Some(da), Some(db)])
}

/// `g * [mine == y] * (1/2 if other == y else 1)`, with the output's shape.
fn chooser(
    e: &mut Emit,
    g: NodeId,
    mine: NodeId,
    other: NodeId,
    y: NodeId,
    dtype: DType,
) -> Result<NodeId, Diag> {
    let zero = e.scalar(dtype, 0.0);
    let half = e.scalar(dtype, 0.5);
    let one = e.scalar(dtype, 1.0);
    let other_tie = e.binary(BinaryOp::Eq, other, y)?;
    let share = e.select(other_tie, half, one)?;
    let chosen = e.binary(BinaryOp::Eq, mine, y)?;
    let weight = e.select(chosen, share, zero)?;
    e.mul(g, weight)
}

/// `where(c, a, b)`: da = g where c, db = g elsewhere; `c` gets none.
pub(crate) fn select(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let (c, a, b) = (input(e, node, 0)?, input(e, node, 1)?, input(e, node, 2)?);
    let zero = e.scalar(e.dtype(g), 0.0);
    let da = e.select(c, g, zero)?;
    let db = e.select(c, zero, g)?;
    let da = e.sum_to(da, &e.dims(a))?;
    let db = e.sum_to(db, &e.dims(b))?;
    Ok(vec![None, Some(da), Some(db)])
}

/// `cast(x, float)` from a float: dx = cast(g, x's dtype); none from int/bool.
pub(crate) fn cast(e: &mut Emit, node: &Node, g: NodeId) -> Contributions {
    let x = input(e, node, 0)?;
    let from = e.dtype(x);
    if !from.is_float() {
        return Ok(vec![]);
    }
    Ok(vec![Some(e.cast(g, from))])
}
