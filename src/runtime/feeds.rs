//! Feed checks: a feed names a placeholder (its value for the steps that follow)
//! or a variable (its value replaced, e.g. resuming from a `--save`d file). Its
//! shape must match the declaration; a tensor's dtype must match exactly, and
//! a file's converts to the declared one when its values allow.

use crate::diag::{Diag, Span};
use crate::ir::{npy, Module, Tensor, TensorType};
use std::path::Path;

/// What a feed name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedTarget {
    Placeholder,
    Variable,
}

/// Checks `tensor` as a feed of `name`; returns what it feeds.
pub fn check_feed(module: &Module, name: &str, tensor: &Tensor) -> Result<FeedTarget, Diag> {
    let (target, ty, span) = declaration(module, name)?;
    check_type(name, ty, span, &tensor.ty())?;
    Ok(target)
}

/// The declaration a feed name refers to: what it is, its type and its span.
pub fn declaration<'m>(
    module: &'m Module,
    name: &str,
) -> Result<(FeedTarget, &'m TensorType, Span), Diag> {
    if let Some(p) = module.placeholder(name) {
        return Ok((FeedTarget::Placeholder, &p.ty, p.span));
    }
    if let Some(v) = module.variable(name) {
        return Ok((FeedTarget::Variable, &v.ty, v.span));
    }
    Err(unknown_feed(module, name))
}

/// "feed `x`: expected f32[64, 32, 32, 3], got f64[64, 32, 32, 3]" at the declaration.
fn check_type(name: &str, expected: &TensorType, span: Span, got: &TensorType) -> Result<(), Diag> {
    if got == expected {
        return Ok(());
    }
    Err(Diag::error(
        format!("feed `{name}`: expected {expected}, got {got}"),
        span,
    )
    .with_note(format!("`{name}` is declared here as {expected}")))
}

/// "`x` is not a placeholder or a variable", listing those that can be fed (and
/// pointing at the first few declarations, so that the error shows the file).
pub fn unknown_feed(module: &Module, name: &str) -> Diag {
    let list = |names: Vec<&str>| {
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    };
    let placeholders = list(
        module
            .placeholders
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
    );
    let variables = list(module.variables.iter().map(|v| v.name.as_str()).collect());
    let mut diag = Diag::plain(format!(
        "cannot feed `{name}`: it is not a placeholder or a variable"
    ));
    let declarations = module
        .placeholders
        .iter()
        .map(|p| (&p.name, p.span))
        .chain(module.variables.iter().map(|v| (&v.name, v.span)));
    for (declared, span) in declarations.take(MAX_LABELS) {
        diag = diag.with_label(span, format!("`{declared}` can be fed"));
    }
    diag.with_note(format!("placeholders: {placeholders}"))
        .with_note(format!("variables: {variables}"))
}

/// How many declarations an "unknown name" error points at.
pub(crate) const MAX_LABELS: usize = 4;

/// Reads a feed of `name` from a `.npy` file (or, from a `.npz` archive, its
/// array `name`) and converts it to the declared dtype (`ir::npy` has the
/// rules). A name that cannot be fed is reported before the file is read, and
/// the file's header is checked against the declaration before its data is
/// read (so a hostile header allocates nothing); errors point at the declaration.
pub fn load_feed(module: &Module, name: &str, path: &Path) -> Result<Tensor, Diag> {
    let (_, ty, span) = declaration(module, name)?;
    let in_file = |message: String| {
        Diag::error(
            format!("feed `{name}`: {}", without_os_error(&message)),
            span,
        )
        .with_note(format!("`{name}` is declared here as {ty}"))
    };
    let read_from = || format!("the feed was read from '{}'", path.display());
    if path.extension().is_some_and(|x| x == "npz") {
        let mut archive = npy::NpzFile::open(path).map_err(in_file)?;
        let member = archive.member(name).map_err(in_file)?;
        check_stored(
            name,
            ty,
            span,
            member.dtype,
            &member.shape,
            &member.describe(),
        )
        .map_err(|d| d.with_note(read_from()))?;
        // The declaration was checked against the memory limit when it was built.
        return archive.read_as(name, ty.dtype, u64::MAX).map_err(in_file);
    }
    let file = npy::NpyFile::open(path).map_err(in_file)?;
    check_stored(name, ty, span, file.dtype(), file.shape(), &file.describe())
        .map_err(|d| d.with_note(read_from()))?;
    file.read_as(ty.dtype).map_err(in_file)
}

/// A stored array can feed `expected` when its shape matches and its dtype
/// may convert (each value is checked as it is read).
fn check_stored(
    name: &str,
    expected: &TensorType,
    span: Span,
    dtype: npy::FileDType,
    shape: &[usize],
    described: &str,
) -> Result<(), Diag> {
    if shape == expected.shape.dims() && dtype.converts_to(expected.dtype) {
        return Ok(());
    }
    let mut diag = Diag::error(
        format!("feed `{name}`: expected {expected}, got {described}"),
        span,
    )
    .with_note(format!("`{name}` is declared here as {expected}"));
    if !dtype.converts_to(expected.dtype) {
        diag = diag.with_note(format!(
            "{dtype} values do not convert to {}",
            expected.dtype
        ));
    }
    Err(diag)
}

/// `No such file or directory (os error 2)` -> `No such file or directory`.
fn without_os_error(message: &str) -> &str {
    match message.find(" (os error ") {
        Some(at) if message.ends_with(')') => &message[..at],
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DType, Graph, PlaceholderDecl, VariableDecl};

    fn module() -> Module {
        let x_ty = TensorType::new(DType::F32, vec![64, 32, 32, 3]);
        let w_ty = TensorType::new(DType::F32, vec![2]);
        Module {
            graph: Graph::new(),
            placeholders: vec![PlaceholderDecl {
                name: "x".into(),
                ty: x_ty,
                default: None,
                span: Span::new(0, 5),
            }],
            variables: vec![VariableDecl {
                name: "w".into(),
                ty: w_ty.clone(),
                init: Tensor::full(&w_ty, 1.0),
                span: Span::new(10, 15),
            }],
            names: vec![],
            runs: vec![],
            data: Default::default(),
        }
    }

    #[test]
    fn matching_feeds_pass() {
        let m = module();
        let x = Tensor::full(&TensorType::new(DType::F32, vec![64, 32, 32, 3]), 0.0);
        assert_eq!(check_feed(&m, "x", &x), Ok(FeedTarget::Placeholder));
        let w = Tensor::full(&TensorType::new(DType::F32, vec![2]), 3.0);
        assert_eq!(check_feed(&m, "w", &w), Ok(FeedTarget::Variable));
    }

    #[test]
    fn wrong_dtype_names_both_types() {
        let m = module();
        let x = Tensor::full(&TensorType::new(DType::F64, vec![64, 32, 32, 3]), 0.0);
        let err = check_feed(&m, "x", &x).unwrap_err();
        assert_eq!(
            err.message,
            "feed `x`: expected f32[64, 32, 32, 3], got f64[64, 32, 32, 3]"
        );
        assert_eq!(err.span, Some(Span::new(0, 5)));
    }

    #[test]
    fn wrong_shape_names_both_shapes() {
        let m = module();
        let w = Tensor::full(&TensorType::new(DType::F32, vec![3]), 0.0);
        let err = check_feed(&m, "w", &w).unwrap_err();
        assert_eq!(err.message, "feed `w`: expected f32[2], got f32[3]");
        assert_eq!(err.span, Some(Span::new(10, 15)));
    }

    #[test]
    fn unknown_name_lists_candidates() {
        let m = module();
        let err = check_feed(&m, "y", &Tensor::scalar(DType::F32, 0.0)).unwrap_err();
        assert_eq!(
            err.message,
            "cannot feed `y`: it is not a placeholder or a variable"
        );
        assert_eq!(
            err.notes,
            vec!["placeholders: x".to_string(), "variables: w".to_string()]
        );
    }

    #[test]
    fn npy_feeds_are_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("tdsl-feeds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = module();
        let good = dir.join("w.npy");
        let w = Tensor::full(&TensorType::new(DType::F32, vec![2]), 2.5);
        npy::write_npy_atomic(&good, &w).unwrap();
        assert_eq!(load_feed(&m, "w", &good).unwrap(), w);

        // f64 converts to the declared f32; the wrong shape does not.
        let w64 = dir.join("w64.npy");
        npy::write_npy_atomic(
            &w64,
            &Tensor::full(&TensorType::new(DType::F64, vec![2]), 2.5),
        )
        .unwrap();
        assert_eq!(load_feed(&m, "w", &w64).unwrap(), w);
        let bad = dir.join("w64x3.npy");
        npy::write_npy_atomic(
            &bad,
            &Tensor::full(&TensorType::new(DType::F64, vec![3]), 2.5),
        )
        .unwrap();
        let err = load_feed(&m, "w", &bad).unwrap_err();
        assert_eq!(err.message, "feed `w`: expected f32[2], got f64[3]");

        let missing = dir.join("missing.npy");
        let err = load_feed(&m, "w", &missing).unwrap_err();
        assert!(
            err.message.starts_with("feed `w`: cannot read"),
            "{}",
            err.message
        );
        let err = load_feed(&m, "nope", &missing).unwrap_err();
        assert!(err.message.starts_with("cannot feed `nope`"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
