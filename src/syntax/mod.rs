//! Syntax: spans, diagnostics, tokens, the AST and the parser.

pub(crate) mod actions;
pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod token;

pub use diag::{Diag, DiagKind};
pub use span::{Span, Spanned};
