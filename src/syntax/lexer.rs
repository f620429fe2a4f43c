//! The token stream fed to lalrpop: `(start, token, end)` triples or an error.
//!
//! Modelled on nickel's `parser/src/lexer.rs`: a thin wrapper around the logos
//! lexer. Besides attaching byte offsets it counts open brackets and stops at
//! depth `MAX_NESTING`, so no later recursive stage (AST walks, the IR
//! builder, `Drop`) can be driven into a stack overflow by `((((...`. The
//! other source of deep ASTs, long operator chains such as `x + x + ...`, is
//! bounded in the grammar actions (see `actions.rs`), not here.
//!
//! After the first error the stream ends: lalrpop cannot recover from a lexer
//! error anyway, and stopping keeps a single clear diagnostic.

use super::token::{LexErrorKind, Token};
use crate::diag::Span;
use logos::Logos;

/// Deepest allowed nesting of `(`, `[` and `{` together.
pub const MAX_NESTING: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub kind: LexErrorKind,
    pub span: Span,
}

impl LexError {
    /// The user-facing message, e.g. "invalid character `$`".
    pub fn message(&self) -> String {
        match &self.kind {
            LexErrorKind::InvalidChar(c) => {
                format!("invalid character `{}`", c.escape_debug())
            }
            LexErrorKind::Invalid => "invalid token".to_owned(),
            LexErrorKind::UnterminatedString => "unterminated string literal".to_owned(),
            LexErrorKind::BadEscape(c) => format!(
                "unknown escape `\\{}` in string (use \\\" \\\\ \\n or \\t)",
                c.escape_debug()
            ),
            LexErrorKind::IntegerTooLarge => {
                format!("integer literal too large (the maximum is {})", i64::MAX)
            }
            LexErrorKind::FloatTooLarge => "float literal out of range".to_owned(),
            LexErrorKind::NestingTooDeep => {
                format!("nesting too deep (more than {MAX_NESTING} open brackets)")
            }
        }
    }
}

pub type Spanned = Result<(usize, Token, usize), LexError>;

pub struct Lexer<'src> {
    inner: logos::Lexer<'src, Token>,
    /// Currently open `( [ {`; an unmatched closer saturates at 0 and is left
    /// for the parser to report.
    depth: usize,
    done: bool,
}

impl<'src> Lexer<'src> {
    pub fn new(source: &'src str) -> Lexer<'src> {
        Lexer {
            inner: Token::lexer(source),
            depth: 0,
            done: false,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Spanned;

    fn next(&mut self) -> Option<Spanned> {
        if self.done {
            return None;
        }
        let token = self.inner.next()?;
        let range = self.inner.span();
        let fail = |this: &mut Self, kind: LexErrorKind, span: Span| {
            this.done = true;
            Some(Err(LexError { kind, span }))
        };
        match token {
            Ok(token) => {
                match token {
                    Token::LParen | Token::LBracket | Token::LBrace => {
                        self.depth += 1;
                        if self.depth > MAX_NESTING {
                            let span = Span::new(range.start, range.end);
                            return fail(self, LexErrorKind::NestingTooDeep, span);
                        }
                    }
                    Token::RParen | Token::RBracket | Token::RBrace => {
                        self.depth = self.depth.saturating_sub(1);
                    }
                    _ => {}
                }
                Some(Ok((range.start, token, range.end)))
            }
            Err(kind) => {
                // An unterminated string points at its opening quote: the
                // scanned range may run to the end of the line.
                let span = match kind {
                    LexErrorKind::UnterminatedString => Span::new(range.start, range.start + 1),
                    _ => Span::new(range.start, range.end),
                };
                fail(self, kind, span)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Token> {
        Lexer::new(src)
            .map(|t| match t {
                Ok((_, tok, _)) => tok,
                Err(e) => panic!("lex error {e:?} in {src:?}"),
            })
            .collect()
    }

    fn error(src: &str) -> LexError {
        match Lexer::new(src).find_map(|t| t.err()) {
            Some(e) => e,
            None => panic!("expected a lex error in {src:?}"),
        }
    }

    #[test]
    fn keywords_identifiers_and_punctuation() {
        use Token::*;
        assert_eq!(
            tokens("let lets _a1 fold cond true false ** * <= < == = != ! || | && @"),
            vec![
                Let,
                Ident("lets".into()),
                Ident("_a1".into()),
                Fold,
                Cond,
                True,
                False,
                StarStar,
                Star,
                Le,
                Lt,
                EqEq,
                Assign,
                Ne,
                Bang,
                OrOr,
                Pipe,
                AndAnd,
                At
            ]
        );
    }

    #[test]
    fn numbers() {
        use Token::*;
        assert_eq!(
            tokens("42 0.5 1e-3 2.5E+2 1. 7e2"),
            vec![
                Int(42),
                Float(0.5),
                Float(1e-3),
                Float(250.0),
                Float(1.0),
                Float(700.0)
            ]
        );
        // A dangling exponent is not part of the number.
        assert_eq!(
            tokens("1e+x"),
            vec![Int(1), Ident("e".into()), Plus, Ident("x".into())]
        );
        assert_eq!(tokens("9223372036854775807"), vec![Int(i64::MAX)]);
        let e = error("x = 9223372036854775808;");
        assert_eq!(e.kind, LexErrorKind::IntegerTooLarge);
        assert_eq!(e.span, Span::new(4, 23));
        assert_eq!(error("1e999").kind, LexErrorKind::FloatTooLarge);
    }

    #[test]
    fn strings_and_comments() {
        use Token::*;
        assert_eq!(
            tokens(
                r#"load("a\"b\\c\nd\te") // comment "not a string"
               x"#
            ),
            vec![
                Ident("load".into()),
                LParen,
                Str("a\"b\\c\nd\te".into()),
                RParen,
                Ident("x".into())
            ]
        );
        assert_eq!(tokens("// only a comment"), vec![]);
        assert_eq!(tokens("\"héllo\""), vec![Str("héllo".into())]);
        let e = error("x = \"abc\ny");
        assert_eq!(e.kind, LexErrorKind::UnterminatedString);
        assert_eq!(e.span, Span::new(4, 5));
        assert_eq!(error("\"abc\\").kind, LexErrorKind::UnterminatedString);
        assert_eq!(error("\"a\\qb\"").kind, LexErrorKind::BadEscape('q'));
    }

    #[test]
    fn invalid_characters() {
        let e = error("let a = $;");
        assert_eq!(e.kind, LexErrorKind::InvalidChar('$'));
        assert_eq!(e.span, Span::new(8, 9));
        assert_eq!(e.message(), "invalid character `$`");
        assert_eq!(error("é").kind, LexErrorKind::InvalidChar('é'));
    }

    #[test]
    fn nesting_is_bounded_and_the_stream_stops_after_an_error() {
        let ok = "(".repeat(MAX_NESTING) + &")".repeat(MAX_NESTING);
        assert_eq!(tokens(&ok).len(), 2 * MAX_NESTING);
        let deep = "([{".repeat(10_000);
        let e = error(&deep);
        assert_eq!(e.kind, LexErrorKind::NestingTooDeep);
        assert_eq!(e.span.start as usize, MAX_NESTING);
        assert_eq!(Lexer::new(&deep).count(), MAX_NESTING + 1);
        // Closing brackets release depth.
        let flat = "()".repeat(10_000);
        assert!(Lexer::new(&flat).all(|t| t.is_ok()));
    }
}
