//! The abstract syntax tree. Every node carries its byte span.

use crate::diag::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `f32[64, 10]`; the dtype name is checked by the IR builder.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub dtype: Ident,
    /// Each size with its span; `None` is `?`.
    pub dims: Vec<(Option<u64>, Span)>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Placeholder {
        name: Ident,
        ty: TypeExpr,
        default: Option<Expr>,
        span: Span,
    },
    Variable {
        name: Ident,
        ty: TypeExpr,
        init: Expr,
        span: Span,
    },
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    Fn {
        name: Ident,
        params: Vec<Ident>,
        body: Block,
        span: Span,
    },
    Run {
        fetches: Vec<Ident>,
        /// `repeat N`, with the span of N.
        repeat: Option<(u64, Span)>,
        /// `epochs E`, with the span of E.
        epochs: Option<(u64, Span)>,
        /// `every K`, with the span of K.
        every: Option<(u64, Span)>,
        span: Span,
    },
    /// `dataset NAME = load(...);`
    Dataset {
        name: Ident,
        value: Expr,
        span: Span,
    },
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Placeholder { span, .. }
            | Item::Variable { span, .. }
            | Item::Let { span, .. }
            | Item::Fn { span, .. }
            | Item::Run { span, .. }
            | Item::Dataset { span, .. } => *span,
        }
    }
}

/// `{ let a = ...; let b = ...; EXPR }`, also a `fn` body.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub lets: Vec<(Ident, Expr)>,
    pub result: Box<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    MatMul,
    Pow,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::MatMul => "@",
            BinaryOp::Pow => "**",
        }
    }
}

/// One item of `x[...]`: an index, or a slice `start:stop:step` with each part
/// optional.
#[derive(Clone, Debug, PartialEq)]
pub enum Subscript {
    Index(Expr),
    Slice {
        start: Option<Expr>,
        stop: Option<Expr>,
        step: Option<Expr>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Name(String),
    /// `[a, b, c]`
    Array(Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `f(a, b, key=c)`: positional arguments, then named ones.
    Call {
        callee: Ident,
        args: Vec<Expr>,
        named: Vec<(Ident, Expr)>,
    },
    /// `x[i]`, along axis 0.
    Index(Box<Expr>, Box<Expr>),
    /// `x[i, a:b, :, a:b:s]`: NumPy basic indexing with a slice or several items
    /// (a single plain index is `Index`).
    Subscript(Box<Expr>, Vec<Subscript>),
    /// `train.x`: an array of a dataset (only a placeholder's feed).
    Field(Box<Expr>, Ident),
    Block(Block),
    /// `|acc, x| body`
    Lambda {
        params: Vec<Ident>,
        body: Box<Expr>,
    },
    /// `cond(pred, then_expr, else_expr)` (a keyword, so a special form).
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `fold(f, init, xs)`: `f` is a lambda or a `fn` name.
    Fold {
        f: Box<Expr>,
        init: Box<Expr>,
        xs: Box<Expr>,
    },
}
