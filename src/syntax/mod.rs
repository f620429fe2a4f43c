//! Syntax: spans, diagnostics, tokens, the AST and the parser.

pub mod ast;
pub mod diag;
pub mod parser;
pub mod span;

pub use diag::{Diag, DiagKind};
pub use span::{Span, Spanned};
