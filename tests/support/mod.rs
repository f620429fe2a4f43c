//! Helpers shared by the integration tests (each test file says `mod support;`).
//!
//! Printed numbers differ in their last digits between CPUs (GEMM blockings and
//! FMA contraction differ), so golden texts are compared with [`text_matches`]:
//! the words around the numbers must be equal, the numbers close.

#![allow(dead_code)] // each test binary uses its own part of this module

pub mod sessions;

/// Relative tolerance for printed numbers: printing keeps six significant
/// digits, and the backends and CPUs agree to a few ulp before printing.
pub const RTOL: f64 = 1e-4;
/// Absolute floor for values near zero (sums that cancel to rounding noise).
pub const ATOL: f64 = 1e-6;

/// A relative tolerance and its absolute floor.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
}

/// Between backends after several training steps: rounding differences
/// compound over the steps (`docs/jit.md`, "What is guaranteed").
pub const TRAINING: Tolerance = Tolerance {
    rtol: 1e-3,
    atol: 1e-4,
};

/// The golden tolerance: [`RTOL`] with the [`ATOL`] floor.
pub const GOLDEN: Tolerance = Tolerance {
    rtol: RTOL,
    atol: ATOL,
};

/// A piece of printed text: a number or the words between numbers.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Number(&'a str, f64),
}

/// Splits `s` into numbers (`-1.5e-07`, `42`) and the text between them. A
/// digit run that continues a word (`f32`, `x1`) is text.
fn pieces(s: &str) -> Vec<Piece<'_>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut text_start) = (0, 0);
    while i < bytes.len() {
        let prev_is_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let starts_number = !prev_is_word
            && (bytes[i].is_ascii_digit()
                || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)));
        if !starts_number {
            i += 1;
            continue;
        }
        let end = number_end(bytes, i);
        if text_start < i {
            out.push(Piece::Text(&s[text_start..i]));
        }
        let token = &s[i..end];
        match token.parse::<f64>() {
            Ok(v) => out.push(Piece::Number(token, v)),
            Err(_) => out.push(Piece::Text(token)),
        }
        i = end;
        text_start = end;
    }
    if text_start < bytes.len() {
        out.push(Piece::Text(&s[text_start..]));
    }
    out
}

/// The end of the number that starts at `i`: sign, digits, fraction, exponent.
fn number_end(bytes: &[u8], mut i: usize) -> usize {
    let digits = |mut j: usize| {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    if bytes[i] == b'-' {
        i += 1;
    }
    i = digits(i);
    if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        i = digits(i + 1);
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'-' || bytes[j] == b'+') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            i = digits(j);
        }
    }
    i
}

/// Whether two printed numbers agree within [`RTOL`] with the [`ATOL`] floor.
pub fn close(expected: f64, actual: f64) -> bool {
    close_within(expected, actual, GOLDEN)
}

/// Whether two printed numbers agree within `tol`.
pub fn close_within(expected: f64, actual: f64, tol: Tolerance) -> bool {
    let scale = expected.abs().max(actual.abs());
    (expected - actual).abs() <= (tol.rtol * scale).max(tol.atol)
}

/// Compares two printed texts line by line: the text between numbers exactly,
/// the numbers with [`close`]. The error names each differing line (1-based)
/// with both versions and the numbers that differ.
pub fn text_matches(expected: &str, actual: &str) -> Result<(), String> {
    text_matches_within(expected, actual, GOLDEN)
}

/// [`text_matches`] with the numbers compared within `tol`.
pub fn text_matches_within(expected: &str, actual: &str, tol: Tolerance) -> Result<(), String> {
    let (want, got): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    let mut problems = Vec::new();
    if want.len() != got.len() {
        problems.push(format!(
            "{} lines expected, {} printed",
            want.len(),
            got.len()
        ));
    }
    for (n, (w, g)) in want.iter().zip(&got).enumerate() {
        if let Some(why) = line_differs(w, g, tol) {
            problems.push(format!(
                "line {}: {why}\n  expected: {w}\n  actual:   {g}",
                n + 1
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Why one line differs, or `None` when it matches.
fn line_differs(want: &str, got: &str, tol: Tolerance) -> Option<String> {
    let (a, b) = (pieces(want), pieces(got));
    if a.len() != b.len() {
        return Some("the text around the numbers differs".into());
    }
    let mut numbers = Vec::new();
    for (x, y) in a.iter().zip(&b) {
        match (x, y) {
            (Piece::Text(s), Piece::Text(t)) if s == t => {}
            (Piece::Number(s, v), Piece::Number(t, u)) => {
                if !close_within(*v, *u, tol) {
                    numbers.push(format!("{s} vs {t}"));
                }
            }
            _ => return Some("the text around the numbers differs".into()),
        }
    }
    (!numbers.is_empty())
        .then(|| format!("numbers differ beyond tolerance: {}", numbers.join(", ")))
}

/// A new pseudo-terminal of 40 rows and `cols` columns: (master, slave).
/// `None` (with a note on stderr) where none can be had.
#[cfg(target_os = "linux")]
pub fn open_pty(cols: u16) -> Option<(std::fs::File, std::fs::File)> {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two new descriptors into the given integers.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if rc != 0 {
        eprintln!(
            "skipped: no pseudo-terminal ({})",
            std::io::Error::last_os_error()
        );
        return None;
    }
    // SAFETY: both descriptors are new and owned here alone.
    Some(unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    })
}

/// A fresh, empty folder for one test of this test binary.
pub fn temp_dir(test: &str) -> std::path::PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!(
        "tdsl-{}-{}-{n}-{test}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    );
    let dir = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `tdsl ARGS` in `dir`.
pub fn tdsl(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tdsl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the tdsl binary runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_digits_may_differ() {
        let a = "[step 40] loss: f32[] = 0.000795589\n";
        let b = "[step 40] loss: f32[] = 0.000795585\n";
        assert!(text_matches(a, b).is_ok());
    }

    #[test]
    fn a_wrong_number_is_named_with_its_line() {
        let err = text_matches("a\nloss: f32[] = 0.5\n", "a\nloss: f32[] = 0.6\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("0.5 vs 0.6"), "{err}");
    }

    #[test]
    fn shapes_and_words_must_match_exactly() {
        assert!(text_matches("x: f32[2, 3] = 1", "x: f32[2, 4] = 1").is_err());
        assert!(text_matches("x: f32[] = 1", "y: f32[] = 1").is_err());
        assert!(text_matches("x: f32[] = 1", "x: f64[] = 1").is_err());
        assert!(text_matches("a\n", "a\nb\n").is_err());
    }

    #[test]
    fn exponents_signs_and_the_floor_near_zero() {
        assert!(text_matches("v = 1.5e-07", "v = -2e-07").is_ok());
        assert!(text_matches("v = 1.5e+03", "v = 1500.1").is_ok());
        assert!(text_matches("v = 1.5e+03", "v = 1600").is_err());
        assert!(text_matches("v = -1", "v = 1").is_err());
        assert!(text_matches("v = nan", "v = nan").is_ok());
        assert!(text_matches("v = nan", "v = inf").is_err());
    }
}
