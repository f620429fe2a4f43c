//! Tokens of tdsl, recognised by a `logos` DFA.
//!
//! The raw logos lexer knows nothing about positions beyond its own spans or
//! about bracket depth; `lexer.rs` wraps it into the `(start, token, end)`
//! stream that the lalrpop grammar consumes.

use logos::Logos;

/// What went wrong while recognising one token. The span is added by the
/// wrapper in `lexer.rs`, which knows where the token started.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LexErrorKind {
    /// A character that starts no token, e.g. `$`.
    InvalidChar(char),
    /// Logos reports an error without a character only on empty input,
    /// which cannot happen; kept so the error type has a `Default`.
    #[default]
    Invalid,
    /// A `"` with no closing `"` on the same line.
    UnterminatedString,
    /// `\q` inside a string: only `\" \\ \n \t` are escapes.
    BadEscape(char),
    /// An integer literal that does not fit in an `i64`.
    IntegerTooLarge,
    /// A float literal that overflows `f64` (e.g. `1e999`).
    FloatTooLarge,
    /// More than `lexer::MAX_NESTING` open brackets.
    NestingTooDeep,
}

impl LexErrorKind {
    fn from_lexer(lex: &mut logos::Lexer<'_, Token>) -> LexErrorKind {
        match lex.slice().chars().next() {
            Some(c) => LexErrorKind::InvalidChar(c),
            None => LexErrorKind::Invalid,
        }
    }
}

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error(LexErrorKind, LexErrorKind::from_lexer))]
#[logos(skip r"[ \t\r\n\f]+")]
// A comment runs to the end of its line; greedy is exactly what we want.
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Token {
    #[token("placeholder")]
    Placeholder,
    #[token("variable")]
    Variable,
    #[token("let")]
    Let,
    #[token("fn")]
    Fn,
    #[token("run")]
    Run,
    #[token("repeat")]
    Repeat,
    #[token("every")]
    Every,
    #[token("epochs")]
    Epochs,
    #[token("dataset")]
    Dataset,
    #[token("cond")]
    Cond,
    #[token("fold")]
    Fold,
    #[token("true")]
    True,
    #[token("false")]
    False,

    // Keywords are exact `#[token]`s, which logos prefers over this regex on
    // an equal-length match; `lets` is still an identifier (longest match).
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_owned())]
    Ident(String),
    // Literals are never negative: `-3` is unary minus applied to `3`.
    #[regex(r"[0-9]+", lex_int)]
    Int(i64),
    // `1.` is a float: the language has no `.` operator or ranges, so a
    // trailing dot is unambiguous.
    #[regex(r"[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?", lex_float)]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+", lex_float)]
    Float(f64),
    #[token("\"", lex_string)]
    Str(String),

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    /// `?`: a size taken from what feeds a placeholder.
    #[token("?")]
    Question,
    /// `.`: `DATASET.ARRAY`.
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
    #[token("|")]
    Pipe,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("**")]
    StarStar,
    #[token("@")]
    At,
    #[token("!")]
    Bang,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
}

fn lex_int(lex: &mut logos::Lexer<'_, Token>) -> Result<i64, LexErrorKind> {
    // The regex admits only digits, so the one possible failure is overflow.
    lex.slice()
        .parse()
        .map_err(|_| LexErrorKind::IntegerTooLarge)
}

fn lex_float(lex: &mut logos::Lexer<'_, Token>) -> Result<f64, LexErrorKind> {
    match lex.slice().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(LexErrorKind::FloatTooLarge),
    }
}

/// Called after the opening `"`: scans to the closing quote by hand, because
/// escapes and a good "unterminated" error are awkward to express as a regex.
/// A raw newline ends an unterminated string, so one missing quote does not
/// swallow the rest of the file.
fn lex_string(lex: &mut logos::Lexer<'_, Token>) -> Result<String, LexErrorKind> {
    let rest = lex.remainder();
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                lex.bump(i + 1);
                return Ok(out);
            }
            '\n' => {
                lex.bump(i);
                return Err(LexErrorKind::UnterminatedString);
            }
            '\\' => {
                let unescaped = match chars.next() {
                    Some((_, 'n')) => '\n',
                    Some((_, 't')) => '\t',
                    Some((_, '"')) => '"',
                    Some((_, '\\')) => '\\',
                    Some((j, '\n')) => {
                        lex.bump(j);
                        return Err(LexErrorKind::UnterminatedString);
                    }
                    Some((j, other)) => {
                        lex.bump(j + other.len_utf8());
                        return Err(LexErrorKind::BadEscape(other));
                    }
                    None => break,
                };
                out.push(unescaped);
            }
            c => out.push(c),
        }
    }
    lex.bump(rest.len());
    Err(LexErrorKind::UnterminatedString)
}
