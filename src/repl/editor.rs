//! The terminal mode: a rustyline line editor with history kept across sessions,
//! `..> ` continuation lines while a bracket is open, and completion of graph
//! names, built-in functions, keywords and `:` commands.

use super::commands::COMMANDS;
use super::{handle, input, Flow, Repl};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};
use std::path::PathBuf;

pub const PROMPT: &str = "td> ";
pub const CONTINUATION: &str = "..> ";

/// Keywords, completed beside the built-in functions (`tdsl::BUILTINS`).
pub const KEYWORDS: &[&str] = &[
    "placeholder",
    "variable",
    "let",
    "fn",
    "run",
    "repeat",
    "every",
    "cond",
    "fold",
    "true",
    "false",
    "f32",
    "f64",
    "i32",
    "bool",
];

/// Completion for the editor; `names` is refreshed after every input.
pub struct TdHelper {
    pub names: Vec<String>,
    files: FilenameCompleter,
}

impl TdHelper {
    pub fn new(names: Vec<String>) -> TdHelper {
        TdHelper {
            names,
            files: FilenameCompleter::new(),
        }
    }

    /// Candidates for the word ending at `pos` of `line`: `(start, candidates)`.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let head = line.get(..pos).unwrap_or(line);
        let start = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .last()
            .map_or(pos, |(i, _)| i);
        let word = &head[start..];
        let mut out: Vec<String> = if word.starts_with(':') {
            if !head[..start].trim().is_empty() {
                return (pos, Vec::new());
            }
            COMMANDS
                .iter()
                .filter_map(|line| line.split(' ').next())
                .filter(|c| c.starts_with(word))
                .map(str::to_string)
                .collect()
        } else {
            if word.is_empty() {
                return (pos, Vec::new());
            }
            self.names
                .iter()
                .map(String::as_str)
                .chain(crate::BUILTINS.iter().copied())
                .chain(KEYWORDS.iter().copied())
                .filter(|n| n.starts_with(word))
                .map(str::to_string)
                .collect()
        };
        out.sort();
        out.dedup();
        (start, out)
    }
}

impl Completer for TdHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let trimmed = line.trim_start();
        if trimmed.starts_with(":load ") || trimmed.starts_with(":save ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, names) = self.candidates(line, pos);
        let pairs = names
            .into_iter()
            .map(|n| Pair {
                display: n.clone(),
                replacement: n,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for TdHelper {
    type Hint = String;
}
impl Highlighter for TdHelper {}
impl Validator for TdHelper {}
impl Helper for TdHelper {}

/// `$XDG_DATA_HOME/tdsl/history`, else `~/.local/share/tdsl/history`.
pub fn history_path() -> Option<PathBuf> {
    let data = match std::env::var_os("XDG_DATA_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
    };
    Some(data.join("tdsl").join("history"))
}

/// The interactive loop: until Ctrl-D or `:quit`. Ctrl-C drops the current input.
pub fn interactive(repl: &mut Repl) {
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<TdHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(_) => {
            // No usable terminal after all: read plainly.
            super::plain(repl, std::io::stdin().lock());
            return;
        }
    };
    editor.set_helper(Some(TdHelper::new(repl.completion_names())));
    let history = history_path();
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.load_history(path);
    }
    super::interrupt::install();
    super::print_out("tdsl REPL: `:help` lists the commands, Ctrl-D leaves\n");
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                pending.push_str(&line);
                if input::needs_more(&pending) {
                    pending.push('\n');
                    continue;
                }
                let text = std::mem::take(&mut pending);
                if input::is_blank(&text) {
                    continue;
                }
                let _ = editor.add_history_entry(text.as_str());
                if let Some(path) = &history {
                    let _ = editor.append_history(path);
                }
                if handle(repl, &text) == Flow::Quit {
                    break;
                }
                if let Some(helper) = editor.helper_mut() {
                    helper.names = repl.completion_names();
                }
            }
            Err(ReadlineError::Interrupted) => pending.clear(),
            Err(ReadlineError::Eof) => break,
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_names_builtins_and_commands() {
        let helper = TdHelper::new(vec!["loss".into(), "logits".into()]);
        assert_eq!(
            helper.candidates("let a = lo", 10),
            (
                8,
                vec![
                    "load".into(),
                    "log".into(),
                    "log_softmax".into(),
                    "logits".into(),
                    "loss".into()
                ]
            )
        );
        assert_eq!(helper.candidates(":ty", 3), (0, vec![":type".into()]));
        assert_eq!(helper.candidates("x :ty", 5).1, Vec::<String>::new());
        assert_eq!(helper.candidates("", 0).1, Vec::<String>::new());
    }
}
