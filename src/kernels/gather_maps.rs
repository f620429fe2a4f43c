//! The coordinate maps of the gather ops (`gather.rs`): for each output axis,
//! the input coordinate each output coordinate reads ([`FILL`]: the pad
//! value). A map that does not fit its op is an error message; an index of
//! `take` out of range is the user's run-time error ([`Fault::Data`]).

use super::fault::Fault;
use super::gather::FILL;

/// A strided slice: `starts[k] + j * steps[k]` for `j < sizes[k]`.
pub fn strided_maps(
    starts: &[usize],
    sizes: &[usize],
    steps: &[i64],
) -> Result<Vec<Vec<usize>>, String> {
    if starts.len() != sizes.len() || steps.len() != sizes.len() {
        return Err("starts, sizes and steps differ in length".into());
    }
    let mut maps = Vec::with_capacity(sizes.len());
    for k in 0..sizes.len() {
        let mut map = Vec::with_capacity(sizes[k]);
        for j in 0..sizes[k] {
            let c = starts[k] as i64 + j as i64 * steps[k];
            map.push(usize::try_from(c).map_err(|_| "slice before 0")?);
        }
        maps.push(map);
    }
    Ok(maps)
}

/// A static slice of extents `sizes` at `starts`.
pub fn slice_maps(starts: &[usize], sizes: &[usize]) -> Result<Vec<Vec<usize>>, String> {
    if starts.len() != sizes.len() {
        return Err(format!("starts {starts:?} for extents {sizes:?}"));
    }
    Ok(starts
        .iter()
        .zip(sizes)
        .map(|(&s, &d)| (s..s.saturating_add(d)).collect())
        .collect())
}

/// A constant pad of an input of `dims`: [`FILL`] in the pads.
pub fn pad_maps(dims: &[usize], pads: &[[usize; 2]]) -> Result<Vec<Vec<usize>>, String> {
    if pads.len() != dims.len() {
        return Err(format!(
            "{} pads for a rank-{} input",
            pads.len(),
            dims.len()
        ));
    }
    dims.iter()
        .zip(pads)
        .map(|(&n, &[before, after])| {
            let len = n
                .checked_add(before)
                .and_then(|l| l.checked_add(after))
                .ok_or("padded shape overflows")?;
            let inside = |p: usize| p >= before && p < before + n;
            Ok((0..len)
                .map(|p| if inside(p) { p - before } else { FILL })
                .collect())
        })
        .collect()
}

/// The source coordinate of every output coordinate of one mirror-padded axis
/// of size `n`; `None` when a pad is too wide for the mode.
pub fn mirror_map(n: usize, [before, after]: [usize; 2], symmetric: bool) -> Option<Vec<usize>> {
    if before == 0 && after == 0 {
        return Some((0..n).collect());
    }
    let limit = if symmetric { n } else { n.checked_sub(1)? };
    if before > limit || after > limit {
        return None;
    }
    let (n, b) = (n as i64, before as i64);
    let edge = i64::from(symmetric);
    let map = (0..n + b + after as i64)
        .map(|p| {
            let i = p - b;
            let i = if i < 0 {
                -i - edge
            } else if i >= n {
                2 * n - 2 + edge - i
            } else {
                i
            };
            i as usize
        })
        .collect();
    Some(map)
}

/// The maps of a mirror pad (REFLECT, or SYMMETRIC) of an input of `dims`.
pub fn mirror_maps(
    dims: &[usize],
    pads: &[[usize; 2]],
    symmetric: bool,
) -> Result<Vec<Vec<usize>>, String> {
    if pads.len() != dims.len() {
        return Err(format!("{} pads for rank {}", pads.len(), dims.len()));
    }
    dims.iter()
        .zip(pads)
        .map(|(&n, &p)| {
            mirror_map(n, p, symmetric).ok_or_else(|| format!("pad {p:?} is too wide for size {n}"))
        })
        .collect()
}

/// The maps of `take` along `axis` of `dims`: every other axis whole;
/// `indices` (of dims `index_dims`, negative ones count from the end) along
/// `axis`. An index out of range is a [`Fault::Data`] naming its value and
/// position.
pub fn take_maps(
    dims: &[usize],
    axis: usize,
    (indices, index_dims): (&[i32], &[usize]),
) -> Result<Vec<Vec<usize>>, Fault> {
    let Some(&size) = dims.get(axis) else {
        return Err(Fault::Misfit(format!("axis {axis} of {dims:?}")));
    };
    let mut map = Vec::with_capacity(indices.len());
    for (flat, &i) in indices.iter().enumerate() {
        let resolved = if i < 0 {
            size as i64 + i64::from(i)
        } else {
            i64::from(i)
        };
        if resolved < 0 || resolved >= size as i64 {
            let mut position = vec![0usize; index_dims.len()];
            let mut rest = flat;
            for k in (0..index_dims.len()).rev() {
                position[k] = rest % index_dims[k].max(1);
                rest /= index_dims[k].max(1);
            }
            return Err(Fault::Data(format!(
                "take: index {i} at position {position:?} is out of range for axis {axis} of size {size}"
            )));
        }
        map.push(resolved as usize);
    }
    Ok(dims
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            if k == axis {
                map.clone()
            } else {
                (0..n).collect()
            }
        })
        .collect())
}

/// The inverse of one-to-one `maps` into an output of `dims`: for each
/// output coordinate, the position that reads it, or [`FILL`]. The adjoint
/// of a strided slice is the gather along these (`0 + g`).
pub fn inverse_maps(dims: &[usize], maps: &[Vec<usize>]) -> Result<Vec<Vec<usize>>, String> {
    if maps.len() != dims.len() {
        return Err(format!("{} maps for {dims:?}", maps.len()));
    }
    let mut inverse: Vec<Vec<usize>> = dims.iter().map(|&n| vec![FILL; n]).collect();
    for (inv, map) in inverse.iter_mut().zip(maps) {
        for (j, &c) in map.iter().enumerate() {
            match inv.get_mut(c) {
                Some(slot) if *slot == FILL => *slot = j,
                _ => return Err("a slice that is not one-to-one".into()),
            }
        }
    }
    Ok(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_of_each_op() {
        assert_eq!(strided_maps(&[4], &[3], &[-2]), Ok(vec![vec![4, 2, 0]]));
        assert!(strided_maps(&[1], &[3], &[-1]).is_err());
        assert_eq!(slice_maps(&[1], &[2]), Ok(vec![vec![1, 2]]));
        assert_eq!(
            pad_maps(&[2], &[[1, 2]]),
            Ok(vec![vec![FILL, 0, 1, FILL, FILL]])
        );
        assert!(pad_maps(&[2], &[[usize::MAX, 0]]).is_err());
        assert_eq!(mirror_map(3, [2, 1], false), Some(vec![2, 1, 0, 1, 2, 1]));
        assert_eq!(mirror_map(3, [1, 2], true), Some(vec![0, 0, 1, 2, 2, 1]));
        assert_eq!(mirror_map(3, [3, 0], false), None);
        let inverse = inverse_maps(&[5], &[vec![4, 2, 0]]);
        assert_eq!(inverse, Ok(vec![vec![2, FILL, 1, FILL, 0]]));
        assert!(inverse_maps(&[5], &[vec![1, 1]]).is_err());
    }

    #[test]
    fn take_resolves_negative_indices_and_names_one_out_of_range() {
        let maps = take_maps(&[2, 3], 1, (&[-1, 0], &[2]));
        assert_eq!(maps, Ok(vec![vec![0, 1], vec![2, 0]]));
        let Err(Fault::Data(m)) = take_maps(&[2, 3], 1, (&[0, 1, 2, 3], &[2, 2])) else {
            panic!("an index out of range is the user's error");
        };
        assert!(m.contains("index 3 at position [1, 1]"), "{m}");
        assert!(matches!(
            take_maps(&[2], 1, (&[0], &[1])),
            Err(Fault::Misfit(_))
        ));
    }
}
