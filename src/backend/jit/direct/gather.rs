//! Slices, pads, `take` and their adjoints as per-axis coordinate maps (as in
//! `kernels::eval::gather`): a forward op gathers its input along the maps
//! (a padded coordinate maps to [`FILL`], the pad value), its adjoint zeroes
//! the output and adds the gradient along the same maps, rows in row-major
//! order (so repeated sources add up in the interpreter's order).
//!
//! Gathers split among threads by output rows; the longest contiguous run
//! of a row's last-axis map is a `copy_from_slice`, the rest (pad values,
//! mirrored edges, a stepped slice) is mapped element by element.
//! Scatters run on one thread (their maps may repeat a target).

use super::rows::for_rows;
use super::{Call, Elem};
use crate::diag::Diag;
use crate::ir::BinaryOp;
use crate::kernels::eval::gather::{mirror_maps, strided_maps, take_maps};

/// A map entry for an output coordinate that takes the pad value.
const FILL: usize = usize::MAX;

/// Row-major strides of `dims`.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * dims[k + 1];
    }
    s
}

/// Checks that `maps` has one map per axis of `dims`, each entry inside its
/// axis (or [`FILL`] when `fill` is allowed), and makes `count` elements.
fn check(
    call: &Call,
    dims: &[usize],
    maps: &[Vec<usize>],
    count: usize,
    fill: bool,
) -> Result<(), Diag> {
    let fits = maps.len() == dims.len()
        && maps
            .iter()
            .zip(dims)
            .all(|(m, &n)| m.iter().all(|&c| c < n || (fill && c == FILL)));
    if !fits || maps.iter().map(Vec::len).product::<usize>() != count {
        return Err(call.fail(format!("cannot map {dims:?} to {}", call.node.ty)));
    }
    Ok(())
}

/// The longest stretch `[start, start + 1, ..]` of a last-axis map (the
/// input row copied there; the pad or mirrored edges around it are mapped
/// one by one): `(at, start, len)`, `len` 0 when there is none.
fn run_of(map: &[usize]) -> (usize, usize, usize) {
    let mut best = (0, 0, 0);
    let mut j = 0;
    while j < map.len() {
        let start = map[j];
        let len = map[j..]
            .iter()
            .enumerate()
            .take_while(|&(k, &c)| c != FILL && c == start + k)
            .count();
        if len > best.2 {
            best = (j, start, len);
        }
        j += len.max(1);
    }
    best
}

/// The flat input offset of an output row at outer coordinates `coords`
/// (`None`: the row is padding).
fn row_base(maps: &[Vec<usize>], coords: &[usize], strides: &[usize]) -> Option<usize> {
    let mut base = 0;
    for ((map, &c), &s) in maps.iter().zip(coords).zip(strides) {
        let m = map[c];
        if m == FILL {
            return None;
        }
        base += m * s;
    }
    Some(base)
}

/// Advances `coords` (an odometer over the axes of `maps`) by one row.
fn next(coords: &mut [usize], maps: &[Vec<usize>]) {
    for k in (0..coords.len()).rev() {
        coords[k] += 1;
        if coords[k] < maps[k].len() {
            return;
        }
        coords[k] = 0;
    }
}

/// `coords` of row `r` of the odometer over `maps`.
fn unravel(mut r: usize, maps: &[Vec<usize>]) -> Vec<usize> {
    let mut coords = vec![0; maps.len()];
    for k in (0..maps.len()).rev() {
        let n = maps[k].len().max(1);
        coords[k] = r % n;
        r /= n;
    }
    coords
}

/// `out[j] = x[maps(j)]`, or `fill` where a map says [`FILL`]; with
/// `plus_zero`, `0 + x[maps(j)]` (a scatter into zeros: `-0` becomes `0`).
fn gather<T: Elem>(
    call: &Call,
    (x, dims): (&[T], &[usize]),
    maps: &[Vec<usize>],
    fill: T,
    plus_zero: bool,
    out: &mut [T],
) -> Result<(), Diag> {
    check(call, dims, maps, out.len(), true)?;
    let Some((inner, outer)) = maps.split_last() else {
        // A scalar: one element.
        if let (Some(o), Some(&v)) = (out.first_mut(), x.first()) {
            *o = if plus_zero {
                T::binary(BinaryOp::Add, T::default(), v)
            } else {
                v
            };
        }
        return Ok(());
    };
    let in_strides = strides(dims);
    let strides = &in_strides[..outer.len()];
    let len = inner.len();
    let (at, start, n) = run_of(inner);
    let one = |c: usize, base: usize| match (c == FILL, plus_zero) {
        (true, _) => fill,
        (false, false) => x[base + c],
        (false, true) => T::binary(BinaryOp::Add, T::default(), x[base + c]),
    };
    for_rows(out, len, out.len(), |first, rows| {
        let mut coords = unravel(first, outer);
        for row in rows.chunks_exact_mut(len) {
            let Some(base) = row_base(outer, &coords, strides) else {
                row.fill(fill);
                next(&mut coords, outer);
                continue;
            };
            let (head, rest) = row.split_at_mut(at);
            let (mid, tail) = rest.split_at_mut(n);
            for (o, &c) in head.iter_mut().zip(&inner[..at]) {
                *o = one(c, base);
            }
            let src = &x[base + start..base + start + n];
            if plus_zero {
                for (o, &v) in mid.iter_mut().zip(src) {
                    *o = T::binary(BinaryOp::Add, T::default(), v);
                }
            } else {
                mid.copy_from_slice(src);
            }
            for (o, &c) in tail.iter_mut().zip(&inner[at + n..]) {
                *o = one(c, base);
            }
            next(&mut coords, outer);
        }
    });
    Ok(())
}

/// Zeroes `out` (of `dims`) and adds `g` (of the maps' shape) along `maps`.
fn scatter<T: Elem>(
    call: &Call,
    g: &[T],
    dims: &[usize],
    maps: &[Vec<usize>],
    out: &mut [T],
) -> Result<(), Diag> {
    check(call, dims, maps, g.len(), false)?;
    if out.len() != dims.iter().product::<usize>() {
        return Err(call.fail("output of the wrong size"));
    }
    out.fill(T::default());
    let Some((inner, outer)) = maps.split_last() else {
        if let (Some(o), Some(&v)) = (out.first_mut(), g.first()) {
            *o = T::binary(BinaryOp::Add, *o, v);
        }
        return Ok(());
    };
    if inner.is_empty() {
        return Ok(());
    }
    let out_strides = strides(dims);
    let strides = &out_strides[..outer.len()];
    let mut coords = vec![0; outer.len()];
    for row in g.chunks_exact(inner.len()) {
        let base = row_base(outer, &coords, strides).unwrap_or(0);
        for (&c, &v) in inner.iter().zip(row) {
            let o = &mut out[base + c];
            *o = T::binary(BinaryOp::Add, *o, v);
        }
        next(&mut coords, outer);
    }
    Ok(())
}

/// `x[starts : .. : steps]` with every axis kept.
pub(super) fn strided_slice<T: Elem>(
    call: &Call,
    starts: &[usize],
    sizes: &[usize],
    steps: &[i64],
    out: &mut [T],
) -> Result<(), Diag> {
    let x = call.input::<T>(0)?;
    let maps = strided_maps(call.node, starts, sizes, steps)?;
    gather(call, x, &maps, T::default(), false, out)
}

/// The adjoint of a strided slice: `g` written into zeros. A slice's map is
/// one-to-one, so this is a gather along the inverse maps (each output
/// coordinate: the slice position that reads it, or none), split among
/// threads like the forward slice, with the scatter's `0 + g`.
pub(super) fn strided_scatter<T: Elem>(
    call: &Call,
    starts: &[usize],
    steps: &[i64],
    out: &mut [T],
) -> Result<(), Diag> {
    let g = call.input::<T>(0)?;
    let sizes = g.1;
    let dims = call.node.ty.shape.dims();
    let maps = strided_maps(call.node, starts, sizes, steps)?;
    if maps.len() != dims.len() {
        return Err(call.fail(format!("{} maps for {dims:?}", maps.len())));
    }
    let mut inverse: Vec<Vec<usize>> = dims.iter().map(|&n| vec![FILL; n]).collect();
    for (inv, map) in inverse.iter_mut().zip(&maps) {
        for (j, &c) in map.iter().enumerate() {
            match inv.get_mut(c) {
                Some(slot) if *slot == FILL => *slot = j,
                _ => return Err(call.fail("a slice that is not one-to-one")),
            }
        }
    }
    gather(call, g, &inverse, T::default(), true, out)
}

/// A static slice at `starts` of the node's extents (the adjoint of `pad`).
pub(super) fn slice<T: Elem>(call: &Call, starts: &[usize], out: &mut [T]) -> Result<(), Diag> {
    let x = call.input::<T>(0)?;
    let dims = call.node.ty.shape.dims();
    if starts.len() != dims.len() {
        return Err(call.fail(format!("starts {starts:?} for {dims:?}")));
    }
    let maps: Vec<Vec<usize>> = starts
        .iter()
        .zip(dims)
        .map(|(&s, &d)| (s..s + d).collect())
        .collect();
    gather(call, x, &maps, T::default(), false, out)
}

/// `pad(x, pads, value)`: `value` converted like a cast.
pub(super) fn pad<T: Elem>(
    call: &Call,
    pads: &[[usize; 2]],
    value: f64,
    out: &mut [T],
) -> Result<(), Diag> {
    let x = call.input::<T>(0)?;
    if pads.len() != x.1.len() {
        return Err(call.fail(format!("{} pads for rank {}", pads.len(), x.1.len())));
    }
    let maps: Vec<Vec<usize>> =
        x.1.iter()
            .zip(pads)
            .map(|(&n, &[before, after])| {
                let inside = |p: usize| p >= before && p < before + n;
                (0..before + n + after)
                    .map(|p| if inside(p) { p - before } else { FILL })
                    .collect()
            })
            .collect();
    gather(call, x, &maps, T::from_f64(value), false, out)
}

/// `pad(x, pads, mode="REFLECT" | "SYMMETRIC")`.
pub(super) fn mirror_pad<T: Elem>(
    call: &Call,
    pads: &[[usize; 2]],
    symmetric: bool,
    out: &mut [T],
) -> Result<(), Diag> {
    let x = call.input::<T>(0)?;
    let maps = mirror_maps(call.node, x.1, pads, symmetric)?;
    gather(call, x, &maps, T::default(), false, out)
}

/// The adjoint of a mirror pad: the gradient folded back onto x.
pub(super) fn mirror_pad_grad<T: Elem>(
    call: &Call,
    pads: &[[usize; 2]],
    symmetric: bool,
    out: &mut [T],
) -> Result<(), Diag> {
    let (g, _) = call.input::<T>(0)?;
    let dims = call.node.ty.shape.dims();
    let maps = mirror_maps(call.node, dims, pads, symmetric)?;
    scatter(call, g, dims, &maps, out)
}

/// `take(x, indices, axis)`.
pub(super) fn take<T: Elem>(call: &Call, axis: usize, out: &mut [T]) -> Result<(), Diag> {
    let x = call.input::<T>(0)?;
    let maps = take_maps(call.node, x.1, axis, call.input::<i32>(1)?)?;
    gather(call, x, &maps, T::default(), false, out)
}

/// The adjoint of `take` for `x`: each slice of `g` added at its index.
pub(super) fn take_grad<T: Elem>(call: &Call, axis: usize, out: &mut [T]) -> Result<(), Diag> {
    let (g, _) = call.input::<T>(0)?;
    let dims = call.node.ty.shape.dims();
    let maps = take_maps(call.node, dims, axis, call.input::<i32>(1)?)?;
    scatter(call, g, dims, &maps, out)
}
