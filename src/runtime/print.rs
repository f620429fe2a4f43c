//! Printing fetched tensors: the one text format of `tdsl run` (golden tests pin
//! it; `docs/cli.md`): floats with 6 significant digits, a tensor of at most
//! [`MAX_FULL_ELEMENTS`] elements whole, a larger one as a summary.

use crate::ir::printer::element_strings;
pub use crate::ir::printer::{format_float, format_values};
use crate::ir::Tensor;

/// Tensors with at most this many elements print every value.
pub const MAX_FULL_ELEMENTS: usize = 64;
/// How many leading values a summary shows.
pub const SUMMARY_FIRST: usize = 8;

/// `min=... max=... mean=... first=[..., ...]` for a large tensor.
pub fn format_summary(tensor: &Tensor) -> String {
    let (min, max) = match tensor {
        Tensor::F32(a) => float_min_max(a.iter().map(|&v| v as f64)),
        Tensor::F64(a) => float_min_max(a.iter().copied()),
        Tensor::I32(a) => (
            a.iter().min().map(|v| v.to_string()),
            a.iter().max().map(|v| v.to_string()),
        ),
        Tensor::Bool(a) => (
            a.iter().min().map(|v| v.to_string()),
            a.iter().max().map(|v| v.to_string()),
        ),
    };
    let count = tensor.len();
    let mean = if count == 0 {
        f64::NAN
    } else {
        let sum: f64 = match tensor {
            Tensor::F32(a) => a.iter().map(|&v| v as f64).sum(),
            Tensor::F64(a) => a.iter().sum(),
            Tensor::I32(a) => a.iter().map(|&v| v as f64).sum(),
            Tensor::Bool(a) => a.iter().filter(|&&v| v).count() as f64,
        };
        sum / count as f64
    };
    let first = element_strings(tensor, SUMMARY_FIRST);
    let more = if count > first.len() { ", ..." } else { "" };
    format!(
        "min={} max={} mean={} first=[{}{more}]",
        min.unwrap_or_else(|| "nan".into()),
        max.unwrap_or_else(|| "nan".into()),
        format_float(mean),
        first.join(", ")
    )
}

/// Minimum and maximum; NaN if any element is NaN (as NumPy's `min`/`max`).
fn float_min_max(values: impl Iterator<Item = f64>) -> (Option<String>, Option<String>) {
    let mut min: Option<f64> = None;
    let mut max: Option<f64> = None;
    for v in values {
        let merge = |current: Option<f64>, pick: fn(f64, f64) -> f64| match current {
            None => Some(v),
            Some(c) if c.is_nan() || v.is_nan() => Some(f64::NAN),
            Some(c) => Some(pick(c, v)),
        };
        min = merge(min, f64::min);
        max = merge(max, f64::max);
    }
    (min.map(format_float), max.map(format_float))
}

/// Prints each fetched value of a step but `group`s, as `PREFIXNAME: ...`.
pub(crate) fn print_fetches(
    plan: &super::plan::Plan,
    values: &[Tensor],
    prefix: &str,
    print: &mut dyn FnMut(&str) -> Result<(), crate::diag::Diag>,
) -> Result<(), crate::diag::Diag> {
    for ((name, value), is_group) in plan
        .fetch_names
        .iter()
        .zip(values)
        .zip(&plan.fetch_is_group)
    {
        if !is_group {
            print(&format!("{prefix}{}", format_fetch(name, value)))?;
        }
    }
    Ok(())
}

/// One fetch, as `tdsl run` prints it (without a trailing newline):
/// `loss: f32[] = 0.693147`, or a summary for more than 64 elements.
pub fn format_fetch(name: &str, tensor: &Tensor) -> String {
    if tensor.len() <= MAX_FULL_ELEMENTS {
        format!("{name}: {} = {}", tensor.ty(), format_values(tensor))
    } else {
        format!("{name}: {} {}", tensor.ty(), format_summary(tensor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DType, TensorType};
    use ndarray::{ArrayD, IxDyn};

    fn f32_tensor(dims: &[usize], values: Vec<f32>) -> Tensor {
        Tensor::F32(ArrayD::from_shape_vec(IxDyn(dims), values).unwrap())
    }

    #[test]
    fn floats_like_percent_g() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-3.0, "-3"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (0.01, "0.01"),
            (0.0123456789, "0.0123457"),
            (std::f64::consts::LN_2, "0.693147"),
            (1e-5, "1e-05"),
            (1e-7, "1e-07"),
            (0.0001, "0.0001"),
            (0.00012345678, "0.000123457"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (123456789.0, "1.23457e+08"),
            (999999.0, "999999"),
            (999999.5, "1e+06"),
            (9.999995, "10"),
            (9.999994, "9.99999"),
            (9.9999951, "10"),
            (100.0, "100"),
            (-2.5e-10, "-2.5e-10"),
            (1e100, "1e+100"),
            (1.7976931348623157e308, "1.79769e+308"),
            (5e-324, "4.94066e-324"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (std::f64::consts::PI, "3.14159"),
            (-0.5, "-0.5"),
            (2.0f32 as f64 / 3.0, "0.666667"),
        ];
        for &(x, expected) in cases {
            assert_eq!(format_float(x), expected, "formatting {x:e}");
        }
        // An f32 value prints its shortest 6-digit form, not f32 noise.
        assert_eq!(format_float(0.1f32 as f64), "0.1");
        assert_eq!(format_float(0.01f32 as f64), "0.01");
    }

    #[test]
    fn scalar_and_vectors() {
        let loss = Tensor::F32(ArrayD::from_elem(IxDyn(&[]), std::f32::consts::LN_2));
        assert_eq!(format_fetch("loss", &loss), "loss: f32[] = 0.693147");
        let v = f32_tensor(&[3], vec![1.0, -2.5, 0.125]);
        assert_eq!(format_fetch("v", &v), "v: f32[3] = [1, -2.5, 0.125]");
    }

    #[test]
    fn nested_matrices() {
        let m = f32_tensor(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            format_fetch("m", &m),
            "m: f32[2, 3] = [[1, 2, 3], [4, 5, 6]]"
        );
        let t = Tensor::F64(
            ArrayD::from_shape_vec(IxDyn(&[2, 2, 2]), (0..8).map(|i| i as f64 / 2.0).collect())
                .unwrap(),
        );
        assert_eq!(
            format_fetch("t", &t),
            "t: f64[2, 2, 2] = [[[0, 0.5], [1, 1.5]], [[2, 2.5], [3, 3.5]]]"
        );
    }

    #[test]
    fn ints_and_bools() {
        let i =
            Tensor::I32(ArrayD::from_shape_vec(IxDyn(&[4]), vec![3, -1, 0, 2147483647]).unwrap());
        assert_eq!(format_fetch("i", &i), "i: i32[4] = [3, -1, 0, 2147483647]");
        let b = Tensor::Bool(ArrayD::from_shape_vec(IxDyn(&[2]), vec![true, false]).unwrap());
        assert_eq!(format_fetch("b", &b), "b: bool[2] = [true, false]");
        let s = Tensor::scalar(DType::Bool, 1.0);
        assert_eq!(format_fetch("s", &s), "s: bool[] = true");
    }

    #[test]
    fn empty_tensors() {
        let e = f32_tensor(&[0, 3], vec![]);
        assert_eq!(format_fetch("e", &e), "e: f32[0, 3] = []");
        let e = f32_tensor(&[2, 0], vec![]);
        assert_eq!(format_fetch("e", &e), "e: f32[2, 0] = [[], []]");
    }

    #[test]
    fn exactly_64_elements_print_whole() {
        let t = Tensor::full(&TensorType::new(DType::I32, vec![8, 8]), 7.0);
        let text = format_fetch("t", &t);
        assert!(text.starts_with("t: i32[8, 8] = [[7, 7"), "{text}");
        assert!(!text.contains("min="));
    }

    #[test]
    fn large_tensors_summarised() {
        let values: Vec<f32> = (0..640).map(|i| (i as f32) / 10.0 - 2.0).collect();
        let t = f32_tensor(&[64, 10], values);
        assert_eq!(
            format_fetch("scores", &t),
            "scores: f32[64, 10] min=-2 max=61.9 mean=29.95 \
             first=[-2, -1.9, -1.8, -1.7, -1.6, -1.5, -1.4, -1.3, ...]"
        );
        let i = Tensor::I32(ArrayD::from_shape_vec(IxDyn(&[65]), (0..65).collect()).unwrap());
        assert_eq!(
            format_fetch("i", &i),
            "i: i32[65] min=0 max=64 mean=32 first=[0, 1, 2, 3, 4, 5, 6, 7, ...]"
        );
        let b = Tensor::Bool(
            ArrayD::from_shape_vec(IxDyn(&[100]), (0..100).map(|i| i % 4 == 0).collect()).unwrap(),
        );
        assert_eq!(
            format_fetch("b", &b),
            "b: bool[100] min=false max=true mean=0.25 \
             first=[true, false, false, false, true, false, false, false, ...]"
        );
    }

    #[test]
    fn summary_with_nan() {
        let mut values = vec![1.0f32; 100];
        values[50] = f32::NAN;
        let t = f32_tensor(&[100], values);
        assert_eq!(
            format_fetch("n", &t),
            "n: f32[100] min=nan max=nan mean=nan first=[1, 1, 1, 1, 1, 1, 1, 1, ...]"
        );
    }
}
