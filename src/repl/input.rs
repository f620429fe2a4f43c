//! Reading inputs: when an input is complete (no bracket left open), and what
//! kind of input it is.

use crate::syntax::lexer::Lexer;
use crate::syntax::token::Token;

/// How many `( [ {` are open at the end of `text` (outside strings and
/// comments). A lexer error (e.g. an unterminated string) ends the count: the
/// input is complete and its error is reported when it is compiled.
pub fn open_brackets(text: &str) -> usize {
    let mut depth: usize = 0;
    for token in Lexer::new(text) {
        match token {
            Ok((_, Token::LParen | Token::LBracket | Token::LBrace, _)) => depth += 1,
            Ok((_, Token::RParen | Token::RBracket | Token::RBrace, _)) => {
                depth = depth.saturating_sub(1)
            }
            Ok(_) => {}
            Err(_) => return 0,
        }
    }
    depth
}

/// Whether more lines are needed: a bracket or brace is open. `:` commands whose
/// argument is a path or a word are always one line.
pub fn needs_more(text: &str) -> bool {
    let trimmed = text.trim_start();
    if let Some(command) = trimmed.strip_prefix(':') {
        let word = command.split_whitespace().next().unwrap_or("");
        if !matches!(word, "type" | "t" | "time" | "graph" | "g") {
            return false;
        }
        return open_brackets(command) > 0;
    }
    open_brackets(text) > 0
}

/// Whether `text` holds nothing but whitespace and comments.
pub fn is_blank(text: &str) -> bool {
    Lexer::new(text).next().is_none()
}

/// What an input is.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// `:name rest`
    Command,
    /// Starts with `placeholder`, `variable`, `let`, `fn` or `run`.
    Items,
    /// Anything else: a bare expression.
    Expr,
}

pub fn kind(text: &str) -> Kind {
    if text.trim_start().starts_with(':') {
        return Kind::Command;
    }
    match Lexer::new(text).next() {
        Some(Ok((
            _,
            Token::Placeholder
            | Token::Variable
            | Token::Let
            | Token::Fn
            | Token::Run
            | Token::Dataset,
            _,
        ))) => Kind::Items,
        _ => Kind::Expr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_outside_strings_and_comments() {
        assert_eq!(open_brackets("let a = [1, (2"), 2);
        assert_eq!(open_brackets("let a = \"(\" // ["), 0);
        assert_eq!(open_brackets("f(x))"), 0);
        assert_eq!(open_brackets("\"unterminated ("), 0);
        assert!(needs_more("fn f(x) {"));
        assert!(!needs_more(":load dir(1/x.td"));
        assert!(needs_more(":type sum(x,"));
        assert!(is_blank("  // just a comment"));
        assert!(!is_blank("x"));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("  :vars"), Kind::Command);
        assert_eq!(kind("let a = 1;"), Kind::Items);
        assert_eq!(kind("// c\nrun a;"), Kind::Items);
        assert_eq!(kind("lets + 1"), Kind::Expr);
        assert_eq!(kind("$"), Kind::Expr);
    }
}
