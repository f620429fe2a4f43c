//! The per-step parts of [`crate::runtime::Session::run`] that need no
//! session: the step counter written into its feed, a fetch list compared
//! with the cached one, the step's updates checked against the variables'
//! declared types. Each works on the values in place, so a training step
//! allocates nothing here.

use crate::backend::STEP_FEED;
use crate::diag::Diag;
use crate::ir::{DType, Module, Tensor};
use std::collections::HashMap;

/// Writes `step` into the step counter's feed: in place once it exists (a
/// scalar `i32`), else as a new entry.
pub(super) fn set_step(placeholders: &mut HashMap<String, Tensor>, step: i32) {
    if let Some(Tensor::I32(a)) = placeholders.get_mut(STEP_FEED) {
        if a.ndim() == 0 {
            a.fill(step);
            return;
        }
    }
    placeholders.insert(
        STEP_FEED.to_string(),
        Tensor::scalar(DType::I32, f64::from(step)),
    );
}

/// Whether `key` (a cached fetch list) is `fetches`.
pub(super) fn same_fetches(key: &[String], fetches: &[&str]) -> bool {
    key.len() == fetches.len() && key.iter().zip(fetches).all(|(k, f)| k == f)
}

/// An internal error unless every update has its variable's declared type.
pub(super) fn check_updates(module: &Module, updates: &[(String, Tensor)]) -> Result<(), Diag> {
    for (name, value) in updates {
        // Names and dims compared inline: a slice `==` calls `memcmp`, and
        // a step checks every update against a linear list of variables.
        let decl = module
            .variables
            .iter()
            .find(|v| same(v.name.as_bytes(), name.as_bytes()));
        let fits = decl.is_some_and(|v| {
            let (a, b) = (v.ty.shape.dims(), value.shape());
            v.ty.dtype == value.dtype() && same(a, b)
        });
        if !fits {
            return Err(Diag::internal(
                "the interpreter",
                format!("assign of `{name}` gave a {} value", value.ty()),
                None,
            ));
        }
    }
    Ok(())
}

/// `a == b`, compared inline (no `memcmp` call for a few elements).
fn same<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The error of a step reading placeholder `name`, which has no value.
pub(super) fn missing_feed(module: &Module, name: &str) -> Diag {
    let message = format!("placeholder `{name}` needs a feed");
    match module.placeholder(name) {
        Some(p) => Diag::error(message, p.span).with_note(format!(
            "feed it (`--feed {name}=FILE.npy`) or give it a default: \
             `placeholder {name}: {} = ...;`",
            p.ty
        )),
        None => Diag::plain(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_written_in_place_once_it_exists() {
        let mut feeds = HashMap::new();
        set_step(&mut feeds, 3);
        let before = match feeds.get(STEP_FEED) {
            Some(Tensor::I32(a)) => a.as_ptr(),
            other => panic!("no step feed: {other:?}"),
        };
        set_step(&mut feeds, 7);
        match feeds.get(STEP_FEED) {
            Some(Tensor::I32(a)) => {
                assert_eq!(a.as_ptr(), before, "the same buffer");
                assert_eq!(a.ndim(), 0);
                assert_eq!(a.iter().copied().collect::<Vec<_>>(), vec![7]);
            }
            other => panic!("no step feed: {other:?}"),
        }
        // A feed of another type under the name is replaced, not written into.
        feeds.insert(STEP_FEED.to_string(), Tensor::scalar(DType::F32, 1.0));
        set_step(&mut feeds, 9);
        assert_eq!(feeds.get(STEP_FEED).map(Tensor::dtype), Some(DType::I32));
        assert_eq!(feeds[STEP_FEED].to_f64_vec(), vec![9.0]);
    }

    #[test]
    fn fetch_lists_compare_by_name_and_order() {
        let key = vec!["a".to_string(), "b".to_string()];
        assert!(same_fetches(&key, &["a", "b"]));
        assert!(!same_fetches(&key, &["b", "a"]));
        assert!(!same_fetches(&key, &["a"]));
        assert!(!same_fetches(&key, &["a", "b", "c"]));
    }
}
