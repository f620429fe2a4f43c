//! Numbers and tensor values as text, shared by `tdsl graph` constants and the
//! runtime's printing of fetched values.

use crate::ir::tensor::Tensor;

/// Formats `x` with 6 significant digits, like C's `printf("%.6g", x)`.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // The exponent of the value rounded to 6 significant digits decides between
    // fixed and scientific notation, exactly as `%g` does.
    let scientific = format!("{x:.5e}");
    let (mantissa, exponent) = match scientific.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (scientific.as_str(), 0),
    };
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{}e{sign}{:02}",
            strip_trailing_zeros(mantissa),
            exponent.unsigned_abs()
        )
    } else {
        let precision = (5 - exponent) as usize;
        strip_trailing_zeros(&format!("{x:.precision$}")).to_string()
    }
}

/// `1.50000` -> `1.5`, `2.00000` -> `2`; a string without a point is kept.
fn strip_trailing_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The first `limit` elements as text, in row-major order.
pub(crate) fn element_strings(tensor: &Tensor, limit: usize) -> Vec<String> {
    match tensor {
        Tensor::F32(a) => a
            .iter()
            .take(limit)
            .map(|&v| format_float(v as f64))
            .collect(),
        Tensor::F64(a) => a.iter().take(limit).map(|&v| format_float(v)).collect(),
        Tensor::I32(a) => a.iter().take(limit).map(|v| v.to_string()).collect(),
        Tensor::Bool(a) => a.iter().take(limit).map(|v| v.to_string()).collect(),
    }
}

/// Writes `items` nested by `dims`, NumPy-like: `[[1, 2], [3, 4]]`.
fn write_nested(out: &mut String, dims: &[usize], items: &[String], position: &mut usize) {
    match dims.split_first() {
        None => {
            if let Some(item) = items.get(*position) {
                out.push_str(item);
            }
            *position += 1;
        }
        Some((&len, rest)) => {
            out.push('[');
            for i in 0..len {
                if i > 0 {
                    out.push_str(", ");
                }
                write_nested(out, rest, items, position);
            }
            out.push(']');
        }
    }
}

/// The values of a tensor, nested: `[[1, 2, 3], [4, 5, 6]]`, or `0.5` for a scalar.
pub fn format_values(tensor: &Tensor) -> String {
    let items = element_strings(tensor, usize::MAX);
    let mut out = String::new();
    write_nested(&mut out, tensor.shape(), &items, &mut 0);
    out
}
