//! Diagnostics: a crate-neutral `Diag`, rendered at the edge with codespan-reporting.
//!
//! Three kinds stay apart: the user's mistake (`Error`), a feature tdsl does not
//! support yet (`Unsupported`) and a bug in tdsl itself (`Internal`).

mod span;
use codespan_reporting::diagnostic::{Diagnostic, Label as CsLabel};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::NoColor};
pub use span::{Span, Spanned};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagKind {
    Error,
    Unsupported,
    Internal,
}

/// A secondary label, e.g. "this is f32[64, 3072]".
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diag {
    pub kind: DiagKind,
    pub message: String,
    /// Where the caret goes; `None` for errors outside the source (a missing file).
    pub span: Option<Span>,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diag {
    pub fn error(message: impl Into<String>, span: Span) -> Diag {
        Diag {
            kind: DiagKind::Error,
            message: message.into(),
            span: Some(span),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// An error that has no place in the source (command line, files).
    pub fn plain(message: impl Into<String>) -> Diag {
        Diag {
            kind: DiagKind::Error,
            message: message.into(),
            span: None,
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn unsupported(message: impl Into<String>, span: Span) -> Diag {
        Diag {
            kind: DiagKind::Unsupported,
            ..Diag::error(message, span)
        }
    }

    /// A bug in tdsl; `stage` names the pass or stage that found it.
    pub fn internal(stage: &str, message: impl Into<String>, span: Option<Span>) -> Diag {
        Diag {
            kind: DiagKind::Internal,
            message: format!("internal compiler error in {stage}: {}", message.into()),
            span,
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diag {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diag {
        self.notes.push(note.into());
        self
    }

    /// Renders without colour: `error: ...`, then `┌─ file:line:col`, the source
    /// line and carets under the span.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let file = SimpleFile::new(file_name, source);
        let mut diagnostic = Diagnostic::error().with_message(match self.kind {
            DiagKind::Error | DiagKind::Internal => self.message.clone(),
            DiagKind::Unsupported => format!("not supported yet: {}", self.message),
        });
        let len = source.len();
        let clamp = |s: Span| (s.start as usize).min(len)..(s.end as usize).min(len);
        let mut labels = Vec::new();
        if let Some(span) = self.span {
            labels.push(CsLabel::primary((), clamp(span)));
        }
        for label in &self.labels {
            labels.push(CsLabel::secondary((), clamp(label.span)).with_message(&label.message));
        }
        diagnostic = diagnostic
            .with_labels(labels)
            .with_notes(self.notes.clone());
        let mut out = NoColor::new(Vec::new());
        let config = term::Config::default();
        if term::emit_to_write_style(&mut out, &config, &file, &diagnostic).is_err() {
            return format!("error: {}\n", self.message);
        }
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }
}

/// Renders several diagnostics, one after another.
pub fn render_all(diags: &[Diag], file_name: &str, source: &str) -> String {
    diags.iter().map(|d| d.render(file_name, source)).collect()
}

/// `No such file or directory`, without Rust's ` (os error 2)` suffix.
pub fn io_error_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
