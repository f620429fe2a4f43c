//! AST construction for the grammar actions, with a depth bound.
//!
//! An LR parser never recurses, but the AST it builds can be arbitrarily
//! deep: a 1 MB line `x + x + x + ...` is a 100k-deep left chain of `Box`es,
//! and merely *dropping* it overflows the stack, as would every recursive
//! pass after the parser. So each expression the grammar builds carries its
//! height (`DExpr::depth`), and an action that would exceed
//! `MAX_EXPR_DEPTH` fails instead. lalrpop then stops and drops its stack,
//! which only ever holds trees of bounded height. Bracket nesting is
//! bounded separately (and earlier) by the lexer.

use super::ast::{BinaryOp, Block, Expr, ExprKind, Ident, Subscript, UnaryOp};
use super::lexer::LexError;
use super::token::Token;
use crate::diag::Span;
use lalrpop_util::ParseError;

/// The tallest expression tree the parser accepts. Later stages may recurse
/// once per level, so this keeps them far from the 2 MiB default stack.
pub const MAX_EXPR_DEPTH: u32 = 256;

/// The parser's error type: a lexer error, or one detected by an action.
#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxError {
    Lex(LexError),
    Grammar { message: String, span: Span },
}

pub type PError = ParseError<usize, Token, SyntaxError>;
pub type PResult<T> = Result<T, PError>;

/// An expression with the height of its tree (a leaf is 1).
pub struct DExpr {
    pub expr: Expr,
    pub depth: u32,
}

/// A block with the height of its tallest expression, plus one.
pub struct DBlock {
    pub block: Block,
    pub depth: u32,
}

/// One call argument, before positional and named ones are separated.
pub enum Arg {
    Pos(DExpr),
    Named(Ident, DExpr),
}

pub fn sp(l: usize, r: usize) -> Span {
    Span::new(l, r)
}

fn grammar_error(message: impl Into<String>, span: Span) -> PError {
    ParseError::User {
        error: SyntaxError::Grammar {
            message: message.into(),
            span,
        },
    }
}

/// Builds a node whose children have height at most `children`.
fn node(l: usize, r: usize, kind: ExprKind, children: u32) -> PResult<DExpr> {
    let span = sp(l, r);
    let depth = children + 1;
    if depth > MAX_EXPR_DEPTH {
        return Err(grammar_error(
            format!("expression nested too deeply (more than {MAX_EXPR_DEPTH} levels)"),
            span,
        ));
    }
    Ok(DExpr {
        expr: Expr { kind, span },
        depth,
    })
}

pub fn leaf(l: usize, r: usize, kind: ExprKind) -> DExpr {
    DExpr {
        expr: Expr {
            kind,
            span: sp(l, r),
        },
        depth: 1,
    }
}

pub fn name(id: Ident) -> DExpr {
    DExpr {
        expr: Expr {
            kind: ExprKind::Name(id.name),
            span: id.span,
        },
        depth: 1,
    }
}

pub fn unary(l: usize, r: usize, op: UnaryOp, e: DExpr) -> PResult<DExpr> {
    node(l, r, ExprKind::Unary(op, Box::new(e.expr)), e.depth)
}

pub fn binary(l: usize, r: usize, op: BinaryOp, a: DExpr, b: DExpr) -> PResult<DExpr> {
    let depth = a.depth.max(b.depth);
    node(
        l,
        r,
        ExprKind::Binary(op, Box::new(a.expr), Box::new(b.expr)),
        depth,
    )
}

/// One item of `x[...]` with the height of its tallest expression.
pub struct DSubscript {
    pub item: Subscript,
    pub depth: u32,
}

pub fn subscript_index(e: DExpr) -> DSubscript {
    DSubscript {
        depth: e.depth,
        item: Subscript::Index(e.expr),
    }
}

pub fn subscript_slice(
    l: usize,
    r: usize,
    start: Option<DExpr>,
    stop: Option<DExpr>,
    step: Option<Option<DExpr>>,
) -> DSubscript {
    let step = step.flatten();
    let depth = [&start, &stop, &step]
        .iter()
        .filter_map(|e| e.as_ref().map(|e| e.depth))
        .max()
        .unwrap_or(0);
    DSubscript {
        item: Subscript::Slice {
            start: start.map(|e| e.expr),
            stop: stop.map(|e| e.expr),
            step: step.map(|e| e.expr),
            span: sp(l, r),
        },
        depth,
    }
}

/// `x[...]`: a single plain index stays `Index` (axis 0, possibly a run-time
/// tensor); anything else is a `Subscript`.
pub fn subscript(l: usize, r: usize, a: DExpr, mut items: Vec<DSubscript>) -> PResult<DExpr> {
    if items.len() == 1 && matches!(items[0].item, Subscript::Index(_)) {
        if let Some(DSubscript {
            item: Subscript::Index(e),
            depth,
        }) = items.pop()
        {
            return index(l, r, a, DExpr { expr: e, depth });
        }
    }
    let depth = items
        .iter()
        .map(|i| i.depth)
        .max()
        .unwrap_or(0)
        .max(a.depth);
    let items = items.into_iter().map(|i| i.item).collect();
    node(l, r, ExprKind::Subscript(Box::new(a.expr), items), depth)
}

pub fn index(l: usize, r: usize, a: DExpr, i: DExpr) -> PResult<DExpr> {
    let depth = a.depth.max(i.depth);
    node(
        l,
        r,
        ExprKind::Index(Box::new(a.expr), Box::new(i.expr)),
        depth,
    )
}

/// `a.b`: an array of a dataset.
pub fn field(l: usize, r: usize, a: DExpr, f: Ident) -> PResult<DExpr> {
    let depth = a.depth;
    node(l, r, ExprKind::Field(Box::new(a.expr), f), depth)
}

fn max_depth(items: &[DExpr]) -> u32 {
    items.iter().map(|e| e.depth).max().unwrap_or(0)
}

pub fn array(l: usize, r: usize, items: Vec<DExpr>) -> PResult<DExpr> {
    let depth = max_depth(&items);
    let items = items.into_iter().map(|e| e.expr).collect();
    node(l, r, ExprKind::Array(items), depth)
}

pub fn lambda(l: usize, r: usize, params: Vec<Ident>, body: DExpr) -> PResult<DExpr> {
    let kind = ExprKind::Lambda {
        params,
        body: Box::new(body.expr),
    };
    node(l, r, kind, body.depth)
}

pub fn block(l: usize, r: usize, lets: Vec<(Ident, DExpr)>, result: DExpr) -> PResult<DBlock> {
    let depth = lets
        .iter()
        .map(|(_, e)| e.depth)
        .fold(result.depth, u32::max)
        + 1;
    let span = sp(l, r);
    if depth > MAX_EXPR_DEPTH {
        return Err(grammar_error("block nested too deeply", span));
    }
    let lets = lets.into_iter().map(|(n, e)| (n, e.expr)).collect();
    let block = Block {
        lets,
        result: Box::new(result.expr),
        span,
    };
    Ok(DBlock { block, depth })
}

pub fn block_expr(b: DBlock) -> PResult<DExpr> {
    let span = b.block.span;
    node(
        span.start as usize,
        span.end as usize,
        ExprKind::Block(b.block),
        b.depth,
    )
}

type NamedArgs = Vec<(Ident, DExpr)>;

/// Splits arguments into positional and named, rejecting a positional one
/// after a named one (Python's rule: it would be ambiguous to read).
fn split_args(args: Vec<Arg>) -> PResult<(Vec<DExpr>, NamedArgs)> {
    let mut pos = Vec::new();
    let mut named: Vec<(Ident, DExpr)> = Vec::new();
    for arg in args {
        match arg {
            Arg::Pos(e) => {
                if let Some((n, _)) = named.last() {
                    return Err(grammar_error(
                        format!(
                            "positional argument after named argument `{}`: \
                             positional arguments must come first",
                            n.name
                        ),
                        e.expr.span,
                    ));
                }
                pos.push(e);
            }
            Arg::Named(n, e) => {
                if named.iter().any(|(p, _)| p.name == n.name) {
                    let message = format!("argument `{}` given twice", n.name);
                    return Err(grammar_error(message, n.span));
                }
                named.push((n, e));
            }
        }
    }
    Ok((pos, named))
}

pub fn call(l: usize, r: usize, callee: Ident, args: Vec<Arg>) -> PResult<DExpr> {
    let (pos, named) = split_args(args)?;
    let depth = named
        .iter()
        .map(|(_, e)| e.depth)
        .fold(max_depth(&pos), u32::max);
    let kind = ExprKind::Call {
        callee,
        args: pos.into_iter().map(|e| e.expr).collect(),
        named: named.into_iter().map(|(n, e)| (n, e.expr)).collect(),
    };
    node(l, r, kind, depth)
}

/// `cond(p, a, b)` and `fold(f, init, xs)`: exactly three positional
/// arguments. Parsed as an argument list first so that a wrong count gets
/// this message rather than a bare "unexpected `)`".
pub fn special_form(l: usize, r: usize, form: &str, args: Vec<Arg>) -> PResult<DExpr> {
    let usage = match form {
        "cond" => "cond(pred, then_expr, else_expr)",
        _ => "fold(f, init, xs)",
    };
    let (pos, named) = split_args(args)?;
    if let Some((n, _)) = named.first() {
        return Err(grammar_error(
            format!("`{form}` takes no named arguments: use {usage}"),
            n.span,
        ));
    }
    let count = pos.len();
    let depth = max_depth(&pos);
    let mut it = pos.into_iter().map(|e| Box::new(e.expr));
    let kind = match (it.next(), it.next(), it.next(), it.next()) {
        (Some(a), Some(b), Some(c), None) => match form {
            "cond" => ExprKind::Cond(a, b, c),
            _ => ExprKind::Fold {
                f: a,
                init: b,
                xs: c,
            },
        },
        _ => {
            return Err(grammar_error(
                format!("`{form}` takes exactly 3 arguments, {count} given: use {usage}"),
                sp(l, r),
            ))
        }
    };
    node(l, r, kind, depth)
}
