//! Gathers and scatters along per-axis coordinate maps, the one kernel of
//! slices, pads (constant and mirror), `take` and their adjoints (the maps:
//! `gather_maps.rs`). Output coordinate `(j0, .., jr)` reads input coordinate
//! `(map0[j0], .., mapr[jr])`, or the fill value where a map says [`FILL`];
//! an adjoint zeroes its output and adds the gradient along the same maps,
//! rows in row-major order (so repeated targets add up in that order).
//!
//! A gather writes whole output rows (the last axis) starting at any row, so
//! a caller may split the rows among threads; each row's longest contiguous
//! stretch of the last map is one `copy_from_slice`, the rest (fill values,
//! mirrored edges, a stepped slice) is mapped element by element.

use crate::ir::scalar::Scalar;
use crate::ir::BinaryOp;

/// A map entry for an output coordinate that takes the fill value.
pub const FILL: usize = usize::MAX;

/// Checked maps over an input of known dims.
#[derive(Clone, Debug)]
pub struct Gather {
    dims: Vec<usize>,
    maps: Vec<Vec<usize>>,
    /// Row-major input strides of the axes before the last.
    strides: Vec<usize>,
    /// The last map's longest stretch `[start, start + 1, ..]`: `(at, start, len)`.
    run: (usize, usize, usize),
}

impl Gather {
    /// The maps `maps` (one per axis of `dims`) over an input of `dims`: every
    /// entry inside its axis, or [`FILL`] when `fill` allows it.
    pub fn new(dims: &[usize], maps: Vec<Vec<usize>>, fill: bool) -> Result<Gather, String> {
        let fits = maps.len() == dims.len()
            && maps
                .iter()
                .zip(dims)
                .all(|(m, &n)| m.iter().all(|&c| c < n || (fill && c == FILL)));
        let lens: Vec<usize> = maps.iter().map(Vec::len).collect();
        let count = lens.iter().try_fold(1usize, |t, &n| t.checked_mul(n));
        let input = dims.iter().try_fold(1usize, |t, &n| t.checked_mul(n));
        if !fits || count.is_none() || input.is_none() {
            return Err(format!("cannot map {dims:?} to extents {lens:?}"));
        }
        let mut strides = vec![1usize; dims.len()];
        for k in (0..dims.len().saturating_sub(1)).rev() {
            strides[k] = strides[k + 1] * dims[k + 1];
        }
        strides.pop();
        let run = maps.last().map_or((0, 0, 0), |m| run_of(m));
        Ok(Gather {
            dims: dims.to_vec(),
            maps,
            strides,
            run,
        })
    }

    /// Elements of the output (of the gradient, for a scatter).
    pub fn len(&self) -> usize {
        self.maps.iter().map(Vec::len).product()
    }

    /// Whether the output has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of an output row: the last map's length (1 for a scalar).
    pub fn row_len(&self) -> usize {
        self.maps.last().map_or(1, Vec::len)
    }

    /// Elements of the input (of the output, for a scatter).
    pub fn input_len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Output rows `first..` (as many as `out` holds) of the gather of `x`:
    /// `fill` where a map says [`FILL`]; with `plus_zero`, `0 + x[..]` (a
    /// scatter into zeros along one-to-one maps: `-0` becomes `0`).
    pub fn rows<T: Scalar + Default>(
        &self,
        x: &[T],
        fill: T,
        plus_zero: bool,
        first: usize,
        out: &mut [T],
    ) -> Result<(), String> {
        let len = self.row_len();
        if x.len() != self.input_len() {
            return Err(format!("{} input elements for {:?}", x.len(), self.dims));
        }
        if len == 0 || out.is_empty() {
            return Ok(());
        }
        let rows = self.len() / len;
        if !out.len().is_multiple_of(len) || first + out.len() / len > rows {
            return Err(format!("{} elements from row {first} of {rows}", out.len()));
        }
        let cast = |v: T| match plus_zero {
            true => T::binary(BinaryOp::Add, T::default(), v),
            false => v,
        };
        let Some((inner, outer)) = self.maps.split_last() else {
            // A scalar: one element.
            out[0] = cast(x[0]);
            return Ok(());
        };
        let (at, start, n) = self.run;
        let one = |c: usize, base: usize| if c == FILL { fill } else { cast(x[base + c]) };
        let mut coords = unravel(first, outer);
        for row in out.chunks_exact_mut(len) {
            let Some(base) = row_base(outer, &coords, &self.strides) else {
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
                    *o = cast(v);
                }
            } else {
                mid.copy_from_slice(src);
            }
            for (o, &c) in tail.iter_mut().zip(&inner[at + n..]) {
                *o = one(c, base);
            }
            next(&mut coords, outer);
        }
        Ok(())
    }

    /// Zeroes `out` (of the input's dims) and adds `g` (of the maps'
    /// extents) along the maps, in row-major order. The maps must not say
    /// [`FILL`].
    pub fn scatter_add<T: Scalar + Default>(&self, g: &[T], out: &mut [T]) -> Result<(), String> {
        self.scatter_rows(g, 0, out)
    }

    /// Rows `first..` (rows of the scattered output's last axis, as many as
    /// `out` holds) of [`Gather::scatter_add`]. Every caller walks all of
    /// `g` in row-major order and keeps what lands in its rows, so a target
    /// receives its additions in the same order however the rows are split
    /// among threads: the same bits.
    pub fn scatter_rows<T: Scalar + Default>(
        &self,
        g: &[T],
        first: usize,
        out: &mut [T],
    ) -> Result<(), String> {
        let fill = self.maps.iter().flatten().any(|&c| c == FILL);
        let width = self.dims.last().copied().unwrap_or(1).max(1);
        let lo = first.saturating_mul(width);
        let whole = lo
            .checked_add(out.len())
            .is_some_and(|hi| hi <= self.input_len() && out.len().is_multiple_of(width));
        if fill || g.len() != self.len() || !whole {
            return Err(format!(
                "cannot scatter {} elements into {} from row {first} along maps of {:?}",
                g.len(),
                out.len(),
                self.dims
            ));
        }
        out.fill(T::default());
        let Some((inner, outer)) = self.maps.split_last() else {
            if let (Some(o), Some(&v)) = (out.first_mut(), g.first()) {
                *o = T::binary(BinaryOp::Add, *o, v);
            }
            return Ok(());
        };
        if inner.is_empty() || out.is_empty() {
            return Ok(());
        }
        let hi = lo + out.len();
        let mut coords = vec![0; outer.len()];
        for row in g.chunks_exact(inner.len()) {
            // Never `None`: no map says `FILL`.
            let base = row_base(outer, &coords, &self.strides).unwrap_or(0);
            next(&mut coords, outer);
            // A row of `g` lands in one row of the output, starting at `base`.
            if base < lo || base >= hi {
                continue;
            }
            let dst = &mut out[base - lo..base - lo + width];
            for (&c, &v) in inner.iter().zip(row) {
                let o = &mut dst[c];
                *o = T::binary(BinaryOp::Add, *o, v);
            }
        }
        Ok(())
    }
}

/// The longest stretch `[start, start + 1, ..]` of a last-axis map (the
/// input row copied there): `(at, start, len)`, `len` 0 when there is none.
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

/// The flat input offset of the row at outer coordinates `coords` (`None`:
/// the row is fill).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_from_any_start_are_the_whole_gather_and_fill_where_mapped() {
        // A 3 x 4 input padded by one row of 9s on top, its columns mirrored.
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let maps = vec![vec![FILL, 0, 1, 2], vec![1, 0, 1, 2, 3, 2]];
        let g = Gather::new(&[3, 4], maps, true).expect("maps fit");
        let mut whole = vec![0.0f32; g.len()];
        g.rows(&x, 9.0, false, 0, &mut whole).expect("fits");
        assert_eq!(&whole[..6], &[9.0; 6]);
        assert_eq!(&whole[6..12], &[1.0, 0.0, 1.0, 2.0, 3.0, 2.0]);
        assert_eq!(&whole[18..], &[9.0, 8.0, 9.0, 10.0, 11.0, 10.0]);
        let mut tail = vec![0.0f32; 12];
        g.rows(&x, 9.0, false, 2, &mut tail).expect("fits");
        assert_eq!(tail, whole[12..]);
        assert!(g.rows(&x, 9.0, false, 3, &mut tail).is_err());
        assert!(g.rows(&x[1..], 9.0, false, 0, &mut whole).is_err());
    }

    #[test]
    fn scatters_add_repeated_targets_and_misfits_are_errors() {
        let g = Gather::new(&[3], vec![vec![2, 0, 2]], false).expect("fits");
        let mut out = [7.0f64; 3];
        g.scatter_add(&[1.0, 2.0, 4.0], &mut out).expect("fits");
        assert_eq!(out, [2.0, 0.0, 5.0]);
        assert!(g.scatter_add(&[1.0], &mut out).is_err());
        assert!(Gather::new(&[3], vec![vec![3]], false).is_err());
        assert!(Gather::new(&[3], vec![vec![FILL]], false).is_err());
        assert!(Gather::new(&[3, 1], vec![vec![0]], true).is_err());
        let fill = Gather::new(&[1], vec![vec![FILL]], true).expect("fits");
        assert!(fill.scatter_add(&[1.0f32], &mut [0.0]).is_err());
    }

    #[test]
    fn scattered_rows_from_any_start_are_the_whole_scatter() {
        // Targets repeat across rows (axis 0) and inside a row (axis 1).
        let maps = vec![vec![2, 0, 2, 1, 2], vec![3, 3, 0, 1]];
        let k = Gather::new(&[3, 4], maps, false).expect("fits");
        let g: Vec<f64> = (0..20).map(|v| 1.5f64.powi(v)).collect();
        let mut whole = vec![0.0f64; 12];
        k.scatter_add(&g, &mut whole).expect("fits");
        assert_eq!(
            whole[..8],
            [
                g[6],
                g[7],
                0.0,
                g[4] + g[5],
                g[14],
                g[15],
                0.0,
                g[12] + g[13]
            ]
        );
        assert_eq!(whole[8], ((0.0 + g[2]) + g[10]) + g[18]);
        for first in 0..3 {
            let mut part = vec![7.0f64; 12 - 4 * first];
            k.scatter_rows(&g, first, &mut part).expect("fits");
            assert_eq!(part, whole[4 * first..], "from row {first}");
        }
        let mut row = vec![0.0f64; 4];
        k.scatter_rows(&g, 2, &mut row).expect("fits");
        assert_eq!(row, whole[8..]);
        assert!(k.scatter_rows(&g, 3, &mut row).is_err());
        assert!(k.scatter_rows(&g, 0, &mut row[..3]).is_err());
    }

    #[test]
    fn plus_zero_turns_negative_zero_into_zero() {
        let g = Gather::new(&[], vec![], false).expect("a scalar");
        let mut out = [1.0f32];
        g.rows(&[-0.0], 0.0, true, 0, &mut out).expect("fits");
        assert_eq!(out[0].to_bits(), 0.0f32.to_bits());
        g.rows(&[-0.0], 0.0, false, 0, &mut out).expect("fits");
        assert_eq!(out[0].to_bits(), (-0.0f32).to_bits());
    }
}
