//! The REPL's program text: the accepted items, each kept with the input it was
//! typed in (or the file it was loaded from), so that a diagnostic about the
//! assembled program points into what the user actually wrote.

use crate::diag::Label;
use crate::diag::{Diag, Span};
use crate::syntax::lexer::Lexer;
use crate::syntax::token::Token;
use std::path::Path;
use std::rc::Rc;

/// Where text came from: one input typed at the prompt (`<repl>`) or a file.
#[derive(Debug)]
pub struct Origin {
    pub name: String,
    pub text: String,
}

impl Origin {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Rc<Origin> {
        Rc::new(Origin {
            name: name.into(),
            text: text.into(),
        })
    }
}

/// One item of the assembled program.
#[derive(Clone, Debug)]
pub struct Piece {
    /// The name it defines (`None` for a `run` statement).
    pub name: Option<String>,
    /// Whether it is a `fn` (for completion).
    pub is_fn: bool,
    /// Its text in the assembled program.
    pub text: String,
    pub origin: Rc<Origin>,
    /// Where the user's part of `text` starts in the origin's text.
    pub origin_offset: usize,
    /// Synthetic characters before the user's part (`let __repl_3 = `).
    pub prefix: usize,
    /// Length of the user's part.
    pub body_len: usize,
    /// Replacements in `text` (see [`Piece::rebase_loads`]).
    edits: Vec<Edit>,
}

/// `text[at..at + new_len]` replaced `old_len` bytes of the original.
#[derive(Clone, Debug)]
struct Edit {
    at: usize,
    new_len: usize,
    old_len: usize,
}

impl Piece {
    /// An item exactly as written at `span` of `origin`.
    pub fn item(origin: &Rc<Origin>, span: Span, name: Option<String>, is_fn: bool) -> Piece {
        let range = span.range();
        let text = origin.text.get(range.clone()).unwrap_or("").to_string();
        Piece {
            name,
            is_fn,
            body_len: text.len(),
            text,
            origin: origin.clone(),
            origin_offset: range.start,
            prefix: 0,
            edits: Vec::new(),
        }
    }

    /// Makes the relative paths of `load("...")` calls relative to `dir` (an item
    /// of a file loaded from another folder reads its `.npy` files from there).
    pub fn rebase_loads(mut self, dir: &Path) -> Piece {
        let mut spans = Vec::new();
        let mut recent: [Option<Token>; 2] = [None, None];
        for token in Lexer::new(&self.text) {
            let Ok((start, token, end)) = token else {
                break;
            };
            if let Token::Str(path) = &token {
                let is_load =
                    matches!(&recent, [Some(Token::Ident(f)), Some(Token::LParen)] if f == "load");
                if is_load && Path::new(path).is_relative() {
                    if let Some(full) = dir.join(path).to_str() {
                        spans.push((start, end, quote(full)));
                    }
                }
            }
            recent = [recent[1].take(), Some(token)];
        }
        let mut text = String::new();
        let mut copied = 0;
        for (start, end, literal) in spans {
            text.push_str(&self.text[copied..start]);
            self.edits.push(Edit {
                at: text.len(),
                new_len: literal.len(),
                old_len: end - start,
            });
            text.push_str(&literal);
            copied = end;
        }
        text.push_str(&self.text[copied..]);
        self.text = text;
        self
    }

    /// A hidden `let NAME = EXPR;` for the expression at `start..end` of `origin`.
    pub fn hidden_let(origin: &Rc<Origin>, start: usize, end: usize, name: &str) -> Piece {
        let expr = origin.text.get(start..end).unwrap_or("");
        let head = format!("let {name} = ");
        // A newline before `;`: the expression may end in a `//` comment.
        let text = format!("{head}{expr}\n;");
        Piece {
            name: Some(name.to_string()),
            is_fn: false,
            text,
            origin: origin.clone(),
            origin_offset: start,
            prefix: head.len(),
            body_len: expr.len(),
            edits: Vec::new(),
        }
    }

    /// The origin position of byte `rel` of this piece's text.
    fn map(&self, rel: usize) -> usize {
        let mut rel = rel.saturating_sub(self.prefix);
        let mut shift = 0isize;
        for edit in &self.edits {
            if rel >= edit.at + edit.new_len {
                shift += edit.new_len as isize - edit.old_len as isize;
            } else {
                rel = rel.min(edit.at);
                break;
            }
        }
        let rel = (rel as isize - shift).max(0) as usize;
        self.origin_offset + rel.min(self.body_len)
    }
}

/// The assembled program: the pieces' texts joined by newlines.
pub struct Layout<'p> {
    pub text: String,
    starts: Vec<usize>,
    pieces: &'p [Piece],
}

impl<'p> Layout<'p> {
    pub fn new(pieces: &'p [Piece]) -> Layout<'p> {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(pieces.len());
        for piece in pieces {
            starts.push(text.len());
            text.push_str(&piece.text);
            text.push('\n');
        }
        Layout {
            text,
            starts,
            pieces,
        }
    }

    /// The piece holding byte `pos` of the assembled text.
    fn locate(&self, pos: usize) -> Option<(usize, &'p Piece)> {
        let index = match self.starts.binary_search(&pos) {
            Ok(i) => i,
            Err(0) => return None,
            Err(i) => i - 1,
        };
        self.pieces.get(index).map(|p| (self.starts[index], p))
    }

    /// A span of the assembled text as a span of its origin.
    fn map_span(&self, span: Span) -> Option<(Rc<Origin>, Span)> {
        let (start, piece) = self.locate(span.start as usize)?;
        let rel_start = span.start as usize - start;
        let rel_end = (span.end as usize).saturating_sub(start).max(rel_start);
        let mapped = Span::new(piece.map(rel_start), piece.map(rel_end));
        Some((piece.origin.clone(), mapped))
    }

    /// Renders diagnostics about the assembled text against their origins.
    pub fn render(&self, diags: &[Diag]) -> String {
        diags.iter().map(|d| self.render_one(d)).collect()
    }

    fn render_one(&self, diag: &Diag) -> String {
        let Some((origin, span)) = diag.span.and_then(|s| self.map_span(s)) else {
            let mut plain = diag.clone();
            plain.span = None;
            plain.labels.clear();
            return plain.render("<repl>", "");
        };
        let mut mapped = Diag {
            span: Some(span),
            labels: Vec::new(),
            ..diag.clone()
        };
        for label in &diag.labels {
            match self.map_span(label.span) {
                Some((o, s)) if Rc::ptr_eq(&o, &origin) => mapped.labels.push(Label {
                    span: s,
                    message: label.message.clone(),
                }),
                Some((o, s)) => {
                    let (line, col) = line_col(&o.text, s.start as usize);
                    let source_line = o.text.lines().nth(line - 1).unwrap_or("").trim();
                    let mut shown: String = source_line.chars().take(60).collect();
                    if shown.len() < source_line.len() {
                        shown.push('…');
                    }
                    mapped.notes.push(format!(
                        "{}: `{shown}` ({}:{line}:{col})",
                        label.message, o.name
                    ));
                }
                None => mapped.notes.push(label.message.clone()),
            }
        }
        mapped.render(&origin.name, &origin.text)
    }
}

/// A string literal of the language holding `text`.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// 1-based line and column (in characters) of byte `pos`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Moves every span of `diag` right by `offset` bytes (a diagnostic about a part
/// of an input, rendered against the whole input).
pub fn shift(mut diag: Diag, offset: usize) -> Diag {
    let by = |s: Span| Span::new(s.start as usize + offset, s.end as usize + offset);
    diag.span = diag.span.map(by);
    for label in &mut diag.labels {
        label.span = by(label.span);
    }
    diag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_back_to_the_input() {
        let first = Origin::new("<repl>", "let a = 1;");
        let second = Origin::new("<repl>", "  a + b");
        let pieces = vec![
            Piece::item(&first, Span::new(0, 10), Some("a".into()), false),
            Piece::hidden_let(&second, 2, 7, "__repl_0"),
        ];
        let layout = Layout::new(&pieces);
        assert_eq!(layout.text, "let a = 1;\nlet __repl_0 = a + b\n;\n");
        let b = layout.text.find('b').unwrap_or(0);
        let (origin, span) = layout.map_span(Span::new(b, b + 1)).unwrap();
        assert!(Rc::ptr_eq(&origin, &second));
        assert_eq!(span, Span::new(6, 7));
        let (origin, span) = layout.map_span(Span::new(4, 5)).unwrap();
        assert!(Rc::ptr_eq(&origin, &first));
        assert_eq!(span, Span::new(4, 5));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn load_paths_follow_the_file() {
        let text = "let w = load(\"w.npy\") + load(\"/abs.npy\") + q;";
        let file = Origin::new("m/net.td", text);
        let piece = Piece::item(&file, Span::new(0, text.len()), Some("w".into()), false)
            .rebase_loads(Path::new("m/d\"q"));
        assert_eq!(
            piece.text,
            "let w = load(\"m/d\\\"q/w.npy\") + load(\"/abs.npy\") + q;"
        );
        let pieces = vec![piece];
        let layout = Layout::new(&pieces);
        let q = layout.text.rfind('q').unwrap_or(0);
        let (_, span) = layout.map_span(Span::new(q, q + 1)).unwrap();
        assert_eq!(span.range(), text.len() - 2..text.len() - 1);
        let inside = layout.text.find("d\\").unwrap_or(0);
        let (_, span) = layout.map_span(Span::new(inside, inside + 1)).unwrap();
        assert_eq!(span.start, 13);
    }
}
