//! Movement kernels: `reshape`, `transpose`, `concat`, `x[i]`, `one_hot` (pads:
//! `gather.rs`). The interpreter and constant folding both call these. They only copy values,
//! so a folded constant is the run-time value bit for bit. An `Err` is a message:
//! the interpreter reports it at the node, folding leaves the node alone.

use crate::ir::scalar::Scalar;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

/// The number of elements of `dims`, or an error on overflow.
fn numel(dims: &[usize]) -> Result<usize, String> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {dims:?} is too large"))
}

/// `a` with shape `dims`, in row-major order (like NumPy's default).
pub fn reshape<T: Clone>(a: &ArrayD<T>, dims: &[usize]) -> Result<ArrayD<T>, String> {
    if numel(dims)? != a.len() {
        return Err(format!("cannot reshape {:?} to {dims:?}", a.shape()));
    }
    let values: Vec<T> = match a.as_slice() {
        Some(s) => s.to_vec(),
        None => a.iter().cloned().collect(),
    };
    ArrayD::from_shape_vec(IxDyn(dims), values).map_err(|e| e.to_string())
}

/// Output axis `i` is input axis `perm[i]`.
pub fn transpose<T: Copy + Default>(a: &ArrayD<T>, perm: &[usize]) -> Result<ArrayD<T>, String> {
    let mut seen = vec![false; a.ndim()];
    let valid = perm.len() == a.ndim()
        && perm
            .iter()
            .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
    if !valid {
        return Err(format!(
            "{perm:?} is not a permutation of the axes of {:?}",
            a.shape()
        ));
    }
    if let (&[rows, cols], [1, 0], Some(values)) = (a.shape(), perm, a.as_slice()) {
        return ArrayD::from_shape_vec(IxDyn(&[cols, rows]), transpose_2d(values, rows, cols))
            .map_err(|e| e.to_string());
    }
    let view = a.view().permuted_axes(IxDyn(perm));
    Ok(view.as_standard_layout().into_owned())
}

/// The transpose of a row-major `[rows, cols]` matrix: 8 x 8 blocks through a
/// fixed-size buffer (which the compiler keeps in registers), so reads and
/// writes are both 8 contiguous values; the ragged edges element by element.
fn transpose_2d<T: Copy + Default>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    const B: usize = 8;
    let mut out = vec![T::default(); a.len()];
    let (full_r, full_c) = (rows - rows % B, cols - cols % B);
    for r0 in (0..full_r).step_by(B) {
        for c0 in (0..full_c).step_by(B) {
            let mut t = [[T::default(); B]; B];
            for (i, row) in t.iter_mut().enumerate() {
                row.copy_from_slice(&a[(r0 + i) * cols + c0..][..B]);
            }
            for j in 0..B {
                let dst = &mut out[(c0 + j) * rows + r0..][..B];
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = t[i][j];
                }
            }
        }
    }
    let edge = (0..rows)
        .flat_map(|r| (full_c..cols).map(move |c| (r, c)))
        .chain((full_r..rows).flat_map(|r| (0..full_c).map(move |c| (r, c))));
    for (r, c) in edge {
        out[c * rows + r] = a[r * cols + c];
    }
    out
}

/// Joins `arrays` along `axis`; every other axis must agree.
pub fn concat<T: Clone>(arrays: &[&ArrayD<T>], axis: usize) -> Result<ArrayD<T>, String> {
    let first = arrays.first().ok_or("needs at least one input")?;
    let rank = first.ndim();
    let compatible = axis < rank
        && arrays.iter().all(|a| {
            a.ndim() == rank && (0..rank).all(|ax| ax == axis || a.shape()[ax] == first.shape()[ax])
        });
    if !compatible {
        let shapes: Vec<&[usize]> = arrays.iter().map(|a| a.shape()).collect();
        return Err(format!("cannot join {shapes:?} along axis {axis}"));
    }
    let views: Vec<ArrayViewD<T>> = arrays.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(axis), &views).map_err(|e| e.to_string())
}

/// The row `i` names on an axis of `size` (a negative `i` counts from the end).
/// Out of range is the user's run-time error: this message is what they see.
pub fn resolve_index(i: i32, size: usize) -> Result<usize, String> {
    let resolved = if i < 0 {
        size as i64 + i64::from(i)
    } else {
        i64::from(i)
    };
    if resolved < 0 || resolved >= size as i64 {
        return Err(format!(
            "index {i} is out of range for axis 0 of size {size}"
        ));
    }
    Ok(resolved as usize)
}

/// `one_hot(labels, depth)`: shape `labels.shape + [depth]`; a label outside
/// `0..depth` gives a row of zeros.
pub fn one_hot<T: Scalar>(labels: &ArrayD<i32>, depth: usize) -> Result<ArrayD<T>, String> {
    let mut dims = labels.shape().to_vec();
    dims.push(depth);
    let mut values = vec![T::from_bool(false); numel(&dims)?];
    for (row, &label) in labels.iter().enumerate() {
        if label >= 0 && (label as usize) < depth {
            values[row * depth + label as usize] = T::from_bool(true);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&dims), values).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iota(dims: &[usize]) -> ArrayD<i32> {
        let n = dims.iter().product::<usize>() as i32;
        ArrayD::from_shape_vec(IxDyn(dims), (0..n).collect()).expect("shape")
    }

    #[test]
    fn indices_resolve_from_either_end_and_out_of_range_is_an_error() {
        assert_eq!(resolve_index(2, 5), Ok(2));
        assert_eq!(resolve_index(-1, 5), Ok(4));
        let message = "index -6 is out of range for axis 0 of size 5";
        assert_eq!(resolve_index(-6, 5), Err(message.to_string()));
        assert!(resolve_index(0, 0).is_err());
    }

    #[test]
    fn the_2d_fast_path_matches_the_general_transpose() {
        // 9 x 17: full 8 x 8 blocks and both ragged edges.
        let a = iota(&[9, 17]);
        let fast = transpose(&a, &[1, 0]).expect("transposes");
        let general = a.view().reversed_axes().as_standard_layout().into_owned();
        assert_eq!(fast, general);
    }

    #[test]
    fn inputs_that_do_not_fit_are_errors() {
        let a = iota(&[2, 3]);
        assert!(transpose(&a, &[0, 0]).is_err());
        assert!(reshape(&a, &[4]).is_err());
        assert!(reshape(&a, &[usize::MAX, 2]).is_err());
        assert!(concat(&[&a, &iota(&[2, 2])], 0).is_err());
        assert!(concat::<i32>(&[], 0).is_err());
        assert!(one_hot::<f32>(&iota(&[2]), usize::MAX).is_err());
    }
}
