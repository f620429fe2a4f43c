//! Names: the global items, local scopes (fn parameters, block `let`s, lambda
//! parameters), lookup, and "did you mean" suggestions.

use super::{BResult, Builder, Value};
use crate::diag::{Diag, Span};
use crate::syntax::ast::Item;
use std::collections::HashMap;

/// Whether a top-level item's value is built.
#[derive(Clone, Debug)]
pub(crate) enum GlobalState {
    Pending,
    Building,
    Done(Value),
    /// Reported already (or a duplicate definition): uses fail silently.
    Failed,
}

/// The local names visible in one `fn` body (or one top-level item): a stack of
/// scopes, innermost last. A `fn` body never sees its caller's locals.
#[derive(Clone, Debug, Default)]
pub(crate) struct Frame {
    scopes: Vec<HashMap<String, Value>>,
}

impl Frame {
    pub(crate) fn push(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub(crate) fn pop(&mut self) {
        self.scopes.pop();
    }

    pub(crate) fn bind(&mut self, name: &str, value: Value) {
        if self.scopes.is_empty() {
            self.push();
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), value);
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.scopes.iter().flat_map(|s| s.keys())
    }
}

/// The name an item defines, if any.
pub(crate) fn item_name(item: &Item) -> Option<&crate::syntax::ast::Ident> {
    match item {
        Item::Placeholder { name, .. }
        | Item::Variable { name, .. }
        | Item::Let { name, .. }
        | Item::Fn { name, .. }
        | Item::Dataset { name, .. } => Some(name),
        Item::Run { .. } => None,
    }
}

/// Levenshtein distance, on chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            let cost = usize::from(ca != b[j]);
            row[j + 1] = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest candidate within edit distance 2 (and closer than the name's length).
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = edit_distance(name, c);
        if d <= 2
            && d < name.chars().count().max(2)
            && best.is_none_or(|(bd, bc)| (d, c) < (bd, bc))
        {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// `diag` with a "did you mean" note when a candidate is close to `name`.
pub(crate) fn with_suggestion<'c>(
    diag: Diag,
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Diag {
    match suggest(name, candidates) {
        Some(s) => diag.with_note(format!("did you mean `{s}`?")),
        None => diag,
    }
}

impl Builder<'_> {
    /// Collects the top-level names; a duplicate is an error naming both places.
    pub(crate) fn collect_globals(&mut self) {
        let program = self.program;
        self.states = vec![GlobalState::Pending; program.items.len()];
        for (i, item) in program.items.iter().enumerate() {
            let Some(name) = item_name(item) else {
                continue;
            };
            if let Some(&first) = self.globals.get(&name.name) {
                let first_span = item_name(&program.items[first]).map(|n| n.span);
                let mut diag = Diag::error(
                    format!("`{}` is defined more than once", name.name),
                    name.span,
                );
                if let Some(span) = first_span {
                    diag = diag.with_label(span, "first defined here");
                }
                self.report(diag.with_note("top-level names are global and unique"));
                self.states[i] = GlobalState::Failed;
            } else {
                self.globals.insert(name.name.clone(), i);
            }
        }
    }

    pub(crate) fn frame(&mut self) -> &mut Frame {
        if self.frames.is_empty() {
            self.frames.push(Frame::default());
        }
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    /// The value of `name`: a local of the current frame, else a top-level name
    /// (built on demand).
    pub(crate) fn lookup(&mut self, name: &str, span: Span) -> BResult<Value> {
        if let Some(v) = self.frames.last().and_then(|f| f.get(name)) {
            return Ok(v.clone());
        }
        if let Some(&index) = self.globals.get(name) {
            if let Item::Fn { .. } = self.program.items[index] {
                return Err(self.error(
                    format!("`{name}` is a function; call it as `{name}(...)`"),
                    span,
                ));
            }
            if let Item::Dataset { .. } = self.program.items[index] {
                return Err(self.report(
                    Diag::error(format!("`{name}` is a dataset, not a value"), span)
                        .with_note(format!("a placeholder reads one of its arrays: `placeholder x: f32[?, 4] = {name}.x;`")),
                ));
            }
            if self.const_only {
                return Err(self.error(
                    format!("an initialiser must be a constant expression, but `{name}` is a graph node"),
                    span,
                ));
            }
            return self.global_value(index, span);
        }
        Err(self.unknown_name(name, span))
    }

    /// "unknown name `w2`" with a did-you-mean note.
    pub(crate) fn unknown_name(&mut self, name: &str, span: Span) -> super::Failed {
        let locals: Vec<String> = self
            .frames
            .last()
            .map(|f| f.names().cloned().collect())
            .unwrap_or_default();
        let candidates = locals
            .iter()
            .map(String::as_str)
            .chain(self.globals.keys().map(String::as_str));
        let diag = Diag::error(format!("unknown name `{name}`"), span);
        self.report(with_suggestion(diag, name, candidates))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("w2", "w1"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(suggest("w2", ["w1", "x", "loss"]), Some("w1".into()));
        assert_eq!(suggest("rleu", ["relu", "exp"]), Some("relu".into()));
        assert_eq!(suggest("banana", ["relu", "exp"]), None);
        assert_eq!(suggest("a", ["bcd"]), None);
    }
}
