//! Resource limits: how many bytes a tensor whose size comes from input (a
//! declared shape, a value constructor, a `.npy` header) may take; every stage
//! asks here before it allocates one. The default (the memory available, or half
//! a lower `ulimit`) is described in `docs/cli.md`, "Resource limits".

use super::graph::Graph;
use super::op::Op;
use super::types::{TensorType, MAX_TENSOR_BYTES};
use crate::diag::Span;

/// The limit when the available memory cannot be read (no `/proc/meminfo`).
const FALLBACK_BYTES: u64 = 4 << 30;

/// The byte size of a tensor of `ty`, `None` when it overflows.
pub fn bytes_of(ty: &TensorType) -> Option<u64> {
    let mut n = ty.dtype.size_bytes() as u64;
    for &d in ty.shape.dims() {
        n = n.checked_mul(u64::try_from(d).ok()?)?;
    }
    Some(n)
}

/// The default limit: the memory available now (else a fixed fallback), or
/// half the process's address-space or data limit when that is lower.
pub fn default_max_bytes() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_available(&text))
        .unwrap_or(FALLBACK_BYTES);
    let rlimit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| address_limit(&text));
    match rlimit {
        Some(bytes) => available.min(bytes / 2),
        None => available,
    }
}

/// The lower of the soft `Max address space` and `Max data size` limits in
/// `/proc/self/limits` text, `None` when both are unlimited.
fn address_limit(limits: &str) -> Option<u64> {
    limits
        .lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("Max address space")
                .or_else(|| l.strip_prefix("Max data size"))?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
        .min()
}

/// `MemAvailable:  123456 kB` -> bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let kb: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    kb.checked_mul(1024)
}

/// `what` of type `ty` fits in `max_bytes` (and in `MAX_TENSOR_BYTES`), or a
/// message naming it, its type and its size in bytes.
pub fn check(what: &str, ty: &TensorType, max_bytes: u64) -> Result<(), String> {
    check_with(ty, max_bytes, || what.to_string())
}

/// [`check`] naming the tensor only when it is too large (cheap on every node).
pub fn check_with(
    ty: &TensorType,
    max_bytes: u64,
    what: impl FnOnce() -> String,
) -> Result<(), String> {
    let limit = max_bytes.min(MAX_TENSOR_BYTES as u64);
    match bytes_of(ty) {
        Some(b) if b <= limit => Ok(()),
        Some(b) => Err(format!(
            "{} ({ty}) needs {b} bytes, more than the memory limit of {limit} bytes \
             (set it with --max-memory)",
            what()
        )),
        None => Err(format!(
            "{} ({ty}) is too large: its size in bytes overflows",
            what()
        )),
    }
}

/// The first node of `graph` (its top level) larger than `max_bytes`, with its
/// span. The builder checks each node as it adds it; this catches the nodes
/// added by autodiff too, such as the history a `fold`'s backward pass saves.
pub fn check_graph(graph: &Graph, max_bytes: u64) -> Result<(), (String, Span)> {
    for node in &graph.nodes {
        check_with(&node.ty, max_bytes, || describe(&node.op)).map_err(|m| (m, node.span))?;
    }
    Ok(())
}

/// How a limit error names a node: "`x`" or "this matmul node".
pub fn describe(op: &Op) -> String {
    match op {
        Op::Placeholder { name } | Op::Variable { name } => format!("`{name}`"),
        // Autodiff's scan: every step's state, for the backward pass.
        Op::Scan { .. } => "the history this fold saves for its gradient".to_string(),
        op => format!("this {} node", op.name()),
    }
}

/// `4096`, `512K`, `512M`, `2G`, `1T` (powers of 1024; a trailing `B` or `iB` is
/// allowed) -> bytes.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let unit_text = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match unit_text.chars().last() {
        Some('K') => (&unit_text[..unit_text.len() - 1], 10),
        Some('M') => (&unit_text[..unit_text.len() - 1], 20),
        Some('G') => (&unit_text[..unit_text.len() - 1], 30),
        Some('T') => (&unit_text[..unit_text.len() - 1], 40),
        _ => (unit_text, 0),
    };
    let bad = || format!("'{text}' is not a byte count (like 4096, 512M or 2G)");
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    n.checked_mul(1u64 << shift).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::types::DType;

    #[test]
    fn an_address_space_limit_is_read() {
        let head = "Limit                     Soft Limit           Hard Limit           Units\n";
        let unlimited = format!(
            "{head}Max data size             unlimited            unlimited            bytes\n\
             Max address space         unlimited            unlimited            bytes\n"
        );
        assert_eq!(address_limit(&unlimited), None);
        let limited = format!(
            "{head}Max data size             unlimited            unlimited            bytes\n\
             Max address space         3221225472           unlimited            bytes\n"
        );
        assert_eq!(address_limit(&limited), Some(3 << 30));
    }

    #[test]
    fn byte_sizes_never_overflow() {
        let ty = |d: Vec<usize>| TensorType::new(DType::F32, d);
        assert_eq!(bytes_of(&ty(vec![1000, 2])), Some(8000));
        assert_eq!(bytes_of(&ty(vec![])), Some(4));
        assert_eq!(bytes_of(&ty(vec![0, usize::MAX])), Some(0));
        assert_eq!(bytes_of(&ty(vec![usize::MAX, 2])), None);
    }

    #[test]
    fn the_limit_names_the_tensor_and_its_bytes() {
        let ty = TensorType::new(DType::F32, vec![1000]);
        assert!(check("`w`", &ty, 4000).is_ok());
        let e = check("`w`", &ty, 1000).unwrap_err();
        assert!(e.contains("`w` (f32[1000]) needs 4000 bytes"), "{e}");
        assert!(e.contains("1000 bytes"), "{e}");
        let huge = TensorType::new(DType::F64, vec![usize::MAX, 3]);
        assert!(check("x", &huge, u64::MAX)
            .unwrap_err()
            .contains("overflows"));
        // The fixed ceiling holds whatever the limit.
        let big = TensorType::new(DType::F32, vec![1 << 32]);
        assert!(check("x", &big, u64::MAX).is_err());
    }

    #[test]
    fn byte_counts_with_suffixes() {
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert_eq!(parse_bytes("2gib"), Ok(2 << 30));
        assert_eq!(parse_bytes("16KB"), Ok(16 << 10));
        assert!(parse_bytes("").is_err());
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("12X").is_err());
        assert!(parse_bytes("99999999999T").is_err());
    }

    #[test]
    fn meminfo_is_read_in_bytes() {
        let text = "MemTotal:       24000000 kB\nMemAvailable:   1000 kB\n";
        assert_eq!(mem_available(text), Some(1_024_000));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert!(default_max_bytes() > 0);
    }
}
