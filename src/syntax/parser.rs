//! Parser glue: the logos lexer feeding the lalrpop grammar
//! (`grammar/tdsl.lalrpop`, built by `build.rs`), and every lalrpop error as a
//! `Diag`; the first syntax error stops the parse (no follow-on noise).

use super::actions::SyntaxError;
use super::ast::{Expr, Program};
use super::lexer::Lexer;
use super::token::Token;
use crate::diag::{Diag, Span};
use lalrpop_util::ParseError;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_imports, dead_code)]
    grammar,
    "/tdsl.rs"
);

/// Parses a whole `.td` file. An empty file (or only comments) is a program
/// with no items.
pub fn parse(source: &str) -> Result<Program, Vec<Diag>> {
    check_size(source)?;
    let tokens = Lexer::new(source).map(|t| t.map_err(SyntaxError::Lex));
    grammar::ProgramParser::new()
        .parse(tokens)
        .map_err(|e| vec![to_diag(e, source)])
}

/// Parses one expression (for the REPL's bare expressions and `:type`).
pub fn parse_expr(source: &str) -> Result<Expr, Vec<Diag>> {
    check_size(source)?;
    let tokens = Lexer::new(source).map(|t| t.map_err(SyntaxError::Lex));
    grammar::ExprParser::new()
        .parse(tokens)
        .map(|d| d.expr)
        .map_err(|e| vec![to_diag(e, source)])
}

/// Spans are `u32` byte offsets; refuse what they cannot address.
fn check_size(source: &str) -> Result<(), Vec<Diag>> {
    if u32::try_from(source.len()).is_err() {
        return Err(vec![Diag::plain("source file too large (4 GiB or more)")]);
    }
    Ok(())
}

fn to_diag(error: ParseError<usize, Token, SyntaxError>, source: &str) -> Diag {
    match error {
        ParseError::InvalidToken { location } => {
            Diag::error("invalid token", Span::new(location, location))
        }
        ParseError::UnrecognizedEof { location, expected } => Diag::error(
            format!("unexpected end of file{}", expected_list(&expected)),
            Span::new(location, location),
        ),
        ParseError::UnrecognizedToken {
            token: (l, token, r),
            expected,
        } => {
            let diag = Diag::error(
                format!(
                    "unexpected {}{}",
                    describe(source, l, r),
                    expected_list(&expected)
                ),
                Span::new(l, r),
            );
            let is_cmp = matches!(
                token,
                Token::EqEq | Token::Ne | Token::Lt | Token::Le | Token::Gt | Token::Ge
            );
            if is_cmp && !expected.iter().any(|e| e == "\"<\"") {
                diag.with_note("comparisons do not chain: write `a < b && b < c`")
            } else {
                diag
            }
        }
        ParseError::ExtraToken { token: (l, _, r) } => Diag::error(
            format!(
                "unexpected {} after the end of the input",
                describe(source, l, r)
            ),
            Span::new(l, r),
        ),
        ParseError::User {
            error: SyntaxError::Lex(e),
        } => Diag::error(e.message(), e.span),
        ParseError::User {
            error: SyntaxError::Grammar { message, span },
        } => Diag::error(message, span),
    }
}

/// The token's source text in backticks, shortened if long.
fn describe(source: &str, l: usize, r: usize) -> String {
    let text = source.get(l..r).unwrap_or("?");
    let mut short: String = text.chars().take(24).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("`{short}`")
}

/// Terminals that can start an expression; listed as "an expression".
const EXPR_START: &[&str] = &[
    "identifier",
    "integer",
    "float",
    "string",
    "true",
    "false",
    "cond",
    "fold",
    "(",
    "[",
    "{",
    "-",
    "!",
    "|",
    "||",
];

/// Terminals that continue an expression; listed as "an operator".
const OPERATORS: &[&str] = &[
    "||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "@", "**", "[", "(", ".",
];

/// More alternatives than this are cut off: a long list does not help.
const MAX_EXPECTED: usize = 6;

/// Turns lalrpop's terminal names (`"\"(\""`, `"\"identifier\""`) into a
/// short readable list, collapsing expression starts and binary operators.
fn expected_list(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    let has = |n: &str| names.contains(&n);
    let expr = has("integer") && has("float");
    // `- ( [ ||` also start expressions, so only the purely binary operators
    // decide whether an operator could continue here.
    let ops = OPERATORS
        .iter()
        .filter(|o| !EXPR_START.contains(o) && has(o))
        .count()
        >= 4;
    let mut items: Vec<String> = Vec::new();
    if expr {
        items.push("an expression".to_owned());
    }
    for name in &names {
        if (expr && EXPR_START.contains(name)) || (ops && OPERATORS.contains(name)) {
            continue;
        }
        items.push(match *name {
            "identifier" => "an identifier".to_owned(),
            "integer" => "an integer".to_owned(),
            "float" => "a float".to_owned(),
            "string" => "a string".to_owned(),
            other => format!("`{other}`"),
        });
    }
    if ops {
        items.push("an operator".to_owned());
    }
    match items.len() {
        0 => String::new(),
        1 => format!(", expected {}", items[0]),
        n => {
            let mut list = items[..n.min(MAX_EXPECTED)].join(", ");
            if n > MAX_EXPECTED {
                list.push_str(", …");
            }
            format!(", expected one of: {list}")
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod error_tests;
