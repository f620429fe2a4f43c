//! Weakly typed literals (JAX semantics): `0.01`, `2`, `true`, `[1.0, 2.0]` and
//! operations on them only (`2 ** 3`, `-1`, `exp(1.0)`) stay literals, without a
//! dtype, until they meet a tensor; then they take the tensor's dtype. Alone they
//! default to `f32` (floats), `i32` (integers) and `bool`.

use crate::ir::infer::{binary_name, broadcast_shapes, unary_name};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::ir::tensor::Tensor;
use crate::ir::types::{DType, Shape, TensorType};

/// The most elements a literal computed at build time may have (broadcasting
/// literals against each other could otherwise make huge ones).
const MAX_WEAK_ELEMENTS: usize = 1 << 24;

fn check_weak_size(shape: &Shape) -> Result<(), String> {
    match shape.checked_numel() {
        Some(n) if n <= MAX_WEAK_ELEMENTS => Ok(()),
        _ => Err(format!(
            "literal too large: shape {shape} (literals computed at build time hold at most {MAX_WEAK_ELEMENTS} elements)"
        )),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum WeakKind {
    Bool,
    Int,
    Float,
}

impl WeakKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            WeakKind::Bool => "a bool literal",
            WeakKind::Int => "an integer literal",
            WeakKind::Float => "a float literal",
        }
    }

    /// The dtype a literal of this kind gets on its own.
    pub(crate) fn default_dtype(self) -> DType {
        match self {
            WeakKind::Bool => DType::Bool,
            WeakKind::Int => DType::I32,
            WeakKind::Float => DType::F32,
        }
    }

    /// Whether a literal of this kind may take `dtype` (ints become floats; floats
    /// never become ints; bools stay bools).
    pub(crate) fn fits(self, dtype: DType) -> bool {
        match self {
            WeakKind::Bool => dtype == DType::Bool,
            WeakKind::Int => dtype.is_numeric(),
            WeakKind::Float => dtype.is_float(),
        }
    }
}

/// A literal value: its kind, shape and row-major values (integers are exact in f64
/// up to 2^53; bools are 0 and 1).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Weak {
    pub kind: WeakKind,
    pub shape: Shape,
    pub data: Vec<f64>,
}

impl Weak {
    pub(crate) fn scalar(kind: WeakKind, value: f64) -> Weak {
        Weak {
            kind,
            shape: Shape::scalar(),
            data: vec![value],
        }
    }

    /// `[a, b, ...]` of literals of one shape: a new leading axis.
    pub(crate) fn stack(elements: &[&Weak]) -> Result<Weak, String> {
        let Some(first) = elements.first() else {
            return Ok(Weak {
                kind: WeakKind::Float,
                shape: Shape(vec![0]),
                data: Vec::new(),
            });
        };
        let mut kind = first.kind;
        let mut data = Vec::new();
        for (i, e) in elements.iter().enumerate() {
            if e.shape != first.shape {
                return Err(format!(
                    "array literal is ragged: element {i} has shape {} but element 0 has shape {}",
                    e.shape, first.shape
                ));
            }
            if (e.kind == WeakKind::Bool) != (kind == WeakKind::Bool) {
                return Err("array literal mixes bools and numbers".into());
            }
            kind = kind.max(e.kind);
            data.extend_from_slice(&e.data);
        }
        let mut dims = vec![elements.len()];
        dims.extend_from_slice(first.shape.dims());
        Ok(Weak {
            kind,
            shape: Shape(dims),
            data,
        })
    }

    /// The tensor of this literal with `dtype`, or why not.
    pub(crate) fn to_tensor(&self, dtype: DType) -> Result<Tensor, String> {
        if !self.kind.fits(dtype) {
            return Err(format!(
                "{} cannot be used as {dtype}; tdsl does not convert implicitly",
                self.kind.describe()
            ));
        }
        if dtype == DType::I32 {
            if let Some(v) = self
                .data
                .iter()
                .find(|v| **v < i32::MIN as f64 || **v > i32::MAX as f64)
            {
                return Err(format!("the integer literal {v} does not fit in i32"));
            }
        }
        let ty = TensorType {
            dtype,
            shape: self.shape.clone(),
        };
        Tensor::from_f64_vec(&ty, self.data.clone())
            .ok_or_else(|| format!("internal: literal data does not match {}", self.shape))
    }

    /// Element `i` along axis 0.
    pub(crate) fn index(&self, i: usize) -> Weak {
        let dims = self.shape.dims()[1..].to_vec();
        let n: usize = dims.iter().product();
        Weak {
            kind: self.kind,
            shape: Shape(dims),
            data: self.data.get(i * n..(i + 1) * n).unwrap_or(&[]).to_vec(),
        }
    }
}

/// `data` of shape `from` expanded to `to` (which `from` broadcasts to).
fn expand(data: &[f64], from: &Shape, to: &Shape) -> Vec<f64> {
    let rank = to.rank();
    let offset = rank - from.rank();
    // Strides of `from` aligned to `to`, 0 along broadcast axes.
    let mut strides = vec![0usize; rank];
    let mut stride = 1;
    for k in (0..from.rank()).rev() {
        if from.0[k] != 1 {
            strides[k + offset] = stride;
        }
        stride *= from.0[k];
    }
    let n = to.numel();
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; rank];
    for _ in 0..n {
        let src: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(data.get(src).copied().unwrap_or(0.0));
        for k in (0..rank).rev() {
            index[k] += 1;
            if index[k] < to.0[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// Folds a unary op on a literal.
pub(crate) fn fold_unary(op: UnaryOp, x: &Weak) -> Result<Weak, String> {
    let name = unary_name(op);
    let kind = match op {
        UnaryOp::Not => {
            if x.kind != WeakKind::Bool {
                return Err(format!("!: expects bool, got {}", x.kind.describe()));
            }
            WeakKind::Bool
        }
        _ if x.kind == WeakKind::Bool => {
            return Err(format!(
                "{name}: expects a number, got {}",
                x.kind.describe()
            ))
        }
        UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Relu => x.kind,
        _ => WeakKind::Float,
    };
    let f = |v: f64| match op {
        UnaryOp::Neg => -v,
        UnaryOp::Not => f64::from(v == 0.0),
        UnaryOp::Exp => v.exp(),
        UnaryOp::Log => v.ln(),
        UnaryOp::Sqrt => v.sqrt(),
        UnaryOp::Abs => v.abs(),
        UnaryOp::Tanh => v.tanh(),
        UnaryOp::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        UnaryOp::Relu => v.max(0.0),
        UnaryOp::Sin => v.sin(),
        UnaryOp::Cos => v.cos(),
    };
    Ok(Weak {
        kind,
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| f(v)).collect(),
    })
}

/// Folds a binary op on two literals (Python semantics: `1 / 2` is `0.5`, `2 ** -1`
/// is `0.5`, `2 ** 3` is the integer 8).
pub(crate) fn fold_binary(op: BinaryOp, a: &Weak, b: &Weak) -> Result<Weak, String> {
    let name = binary_name(op);
    let bools = (a.kind == WeakKind::Bool, b.kind == WeakKind::Bool);
    let kind = if op.is_logical() {
        if bools != (true, true) {
            return Err(format!("{name}: expects bool operands"));
        }
        WeakKind::Bool
    } else if op.is_comparison() {
        if bools.0 != bools.1 || (bools.0 && !matches!(op, BinaryOp::Eq | BinaryOp::Ne)) {
            return Err(format!(
                "{name}: cannot compare {} and {}",
                a.kind.describe(),
                b.kind.describe()
            ));
        }
        WeakKind::Bool
    } else {
        if bools.0 || bools.1 {
            return Err(format!("{name}: expects numbers, got a bool literal"));
        }
        let kind = a.kind.max(b.kind);
        match op {
            BinaryOp::Div => WeakKind::Float,
            BinaryOp::Pow if b.data.iter().any(|&e| e < 0.0) => WeakKind::Float,
            _ => kind,
        }
    };
    let shape = broadcast_shapes(&a.shape, &b.shape).ok_or_else(|| {
        format!(
            "{name}: cannot broadcast literals of shapes {} and {}",
            a.shape, b.shape
        )
    })?;
    check_weak_size(&shape)?;
    let xs = expand(&a.data, &a.shape, &shape);
    let ys = expand(&b.data, &b.shape, &shape);
    let f = |x: f64, y: f64| match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => x.powf(y),
        BinaryOp::Maximum => x.max(y),
        BinaryOp::Minimum => x.min(y),
        BinaryOp::Eq => f64::from(x == y),
        BinaryOp::Ne => f64::from(x != y),
        BinaryOp::Lt => f64::from(x < y),
        BinaryOp::Le => f64::from(x <= y),
        BinaryOp::Gt => f64::from(x > y),
        BinaryOp::Ge => f64::from(x >= y),
        BinaryOp::And => f64::from(x != 0.0 && y != 0.0),
        BinaryOp::Or => f64::from(x != 0.0 || y != 0.0),
    };
    Ok(Weak {
        kind,
        shape,
        data: xs.iter().zip(&ys).map(|(&x, &y)| f(x, y)).collect(),
    })
}

/// Folds `where(c, a, b)` on literals.
pub(crate) fn fold_select(c: &Weak, a: &Weak, b: &Weak) -> Result<Weak, String> {
    if c.kind != WeakKind::Bool {
        return Err("where: the condition must be bool".into());
    }
    if (a.kind == WeakKind::Bool) != (b.kind == WeakKind::Bool) {
        return Err("where: the branches mix bools and numbers".into());
    }
    let shape = broadcast_shapes(&a.shape, &b.shape)
        .and_then(|s| broadcast_shapes(&c.shape, &s))
        .ok_or_else(|| "where: the literals do not broadcast together".to_string())?;
    check_weak_size(&shape)?;
    let cs = expand(&c.data, &c.shape, &shape);
    let xs = expand(&a.data, &a.shape, &shape);
    let ys = expand(&b.data, &b.shape, &shape);
    let data = (0..cs.len())
        .map(|i| if cs[i] != 0.0 { xs[i] } else { ys[i] })
        .collect();
    Ok(Weak {
        kind: a.kind.max(b.kind),
        shape,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(kind: WeakKind, dims: &[usize], data: &[f64]) -> Weak {
        Weak {
            kind,
            shape: Shape(dims.to_vec()),
            data: data.to_vec(),
        }
    }

    #[test]
    fn folding_follows_python() {
        let two = Weak::scalar(WeakKind::Int, 2.0);
        let three = Weak::scalar(WeakKind::Int, 3.0);
        let pow = fold_binary(BinaryOp::Pow, &two, &three);
        assert_eq!(pow, Ok(Weak::scalar(WeakKind::Int, 8.0)));
        let neg = Weak::scalar(WeakKind::Int, -1.0);
        assert_eq!(
            fold_binary(BinaryOp::Pow, &two, &neg).map(|w| w.kind),
            Ok(WeakKind::Float)
        );
        let div = fold_binary(BinaryOp::Div, &three, &two);
        assert_eq!(div, Ok(Weak::scalar(WeakKind::Float, 1.5)));
        let lt = fold_binary(BinaryOp::Lt, &two, &three);
        assert_eq!(lt, Ok(Weak::scalar(WeakKind::Bool, 1.0)));
        let t = Weak::scalar(WeakKind::Bool, 1.0);
        assert!(fold_binary(BinaryOp::Add, &t, &two).is_err());
        assert!(fold_binary(BinaryOp::And, &t, &two).is_err());
        assert_eq!(
            fold_unary(UnaryOp::Exp, &two).map(|w| w.kind),
            Ok(WeakKind::Float)
        );
        assert_eq!(
            fold_unary(UnaryOp::Neg, &two),
            Ok(Weak::scalar(WeakKind::Int, -2.0))
        );
        assert!(fold_unary(UnaryOp::Not, &two).is_err());
    }

    #[test]
    fn broadcasting_and_stacking() {
        let col = lit(WeakKind::Int, &[2, 1], &[1.0, 2.0]);
        let row = lit(WeakKind::Float, &[3], &[10.0, 20.0, 30.0]);
        let sum = fold_binary(BinaryOp::Add, &col, &row);
        let want = lit(
            WeakKind::Float,
            &[2, 3],
            &[11.0, 21.0, 31.0, 12.0, 22.0, 32.0],
        );
        assert_eq!(sum, Ok(want));
        let bad = lit(WeakKind::Int, &[2], &[1.0, 2.0]);
        assert!(fold_binary(BinaryOp::Add, &bad, &row).is_err());
        let a = lit(WeakKind::Int, &[2], &[1.0, 2.0]);
        let b = lit(WeakKind::Float, &[2], &[3.0, 4.0]);
        let stacked = Weak::stack(&[&a, &b]);
        assert_eq!(stacked.clone().map(|w| w.shape), Ok(Shape(vec![2, 2])));
        assert_eq!(stacked.map(|w| w.kind), Ok(WeakKind::Float));
        assert!(Weak::stack(&[&a, &row]).is_err());
        let c = Weak::scalar(WeakKind::Bool, 1.0);
        assert!(Weak::stack(&[&c, &Weak::scalar(WeakKind::Int, 1.0)]).is_err());
        assert_eq!(sum_index(&col), vec![2.0]);
    }

    fn sum_index(w: &Weak) -> Vec<f64> {
        w.index(1).data
    }

    #[test]
    fn tensors_of_a_dtype() {
        let i = lit(WeakKind::Int, &[2], &[1.0, -2.0]);
        assert_eq!(
            i.to_tensor(DType::F64).map(|t| t.ty().to_string()),
            Ok("f64[2]".into())
        );
        assert!(i.to_tensor(DType::Bool).is_err());
        let f = Weak::scalar(WeakKind::Float, 0.5);
        assert!(f
            .to_tensor(DType::I32)
            .unwrap_err()
            .contains("float literal cannot be used as i32"));
        let big = Weak::scalar(WeakKind::Int, 3e9);
        assert!(big
            .to_tensor(DType::I32)
            .unwrap_err()
            .contains("does not fit"));
        assert!(big.to_tensor(DType::F32).is_ok());
    }
}
