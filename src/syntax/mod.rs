//! Syntax: tokens, the AST and the parser.

pub(crate) mod actions;
pub mod ast;
pub mod lexer;
pub mod parser;
pub mod token;
