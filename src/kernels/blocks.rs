//! Copying a rectangular block between row-major buffers of different shapes
//! (`pad` writes its input into the middle of the output, the backward `slice`
//! reads a block out of its input): one `copy_from_slice` per contiguous run,
//! with the trailing axes the two shapes share merged into one run.

/// Copies the block of shape `region` that starts at `src_at` in `src`
/// (row-major, shape `src_dims`) to `dst_at` in `dst` (shape `dst_dims`).
/// Returns `false`, copying nothing, when the block does not fit either buffer.
pub fn copy_block<T: Copy>(
    src: &[T],
    src_dims: &[usize],
    src_at: &[usize],
    dst: &mut [T],
    dst_dims: &[usize],
    dst_at: &[usize],
    region: &[usize],
) -> bool {
    let rank = region.len();
    let fits = |dims: &[usize], at: &[usize], len: usize| {
        dims.len() == rank
            && at.len() == rank
            && (0..rank).all(|k| at[k].checked_add(region[k]).is_some_and(|e| e <= dims[k]))
            && dims.iter().product::<usize>() == len
    };
    if !fits(src_dims, src_at, src.len()) || !fits(dst_dims, dst_at, dst.len()) {
        return false;
    }
    if region.contains(&0) {
        return true;
    }
    if rank == 0 {
        dst[0] = src[0];
        return true;
    }
    // Axes `split..` are whole in both buffers: they form one contiguous run.
    let mut split = rank;
    while split > 1
        && region[split - 1] == src_dims[split - 1]
        && region[split - 1] == dst_dims[split - 1]
    {
        split -= 1;
    }
    let strides = |dims: &[usize]| {
        let mut s = vec![1usize; rank];
        for k in (0..rank.saturating_sub(1)).rev() {
            s[k] = s[k + 1] * dims[k + 1];
        }
        s
    };
    let (ss, ds) = (strides(src_dims), strides(dst_dims));
    // The whole trailing axes have equal strides in both buffers.
    let run = region[split - 1] * ss[split - 1];
    let offset = |at: &[usize], s: &[usize]| (0..rank).map(|k| at[k] * s[k]).sum::<usize>();
    let (src0, dst0) = (offset(src_at, &ss), offset(dst_at, &ds));
    // Odometer over the axes before the run's axis.
    let outer = split - 1;
    let mut index = vec![0usize; outer];
    loop {
        let (mut si, mut di) = (src0, dst0);
        for k in 0..outer {
            si += index[k] * ss[k];
            di += index[k] * ds[k];
        }
        dst[di..di + run].copy_from_slice(&src[si..si + run]);
        let mut k = outer;
        loop {
            if k == 0 {
                return true;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < region[k] {
                break;
            }
            index[k] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::copy_block;

    /// The same copy element by element.
    fn naive(
        src_dims: &[usize],
        src_at: &[usize],
        dst_dims: &[usize],
        dst_at: &[usize],
        region: &[usize],
    ) -> Vec<i32> {
        let src: Vec<i32> = (0..src_dims.iter().product::<usize>() as i32).collect();
        let mut dst = vec![-1; dst_dims.iter().product()];
        for index in ndarray::indices(region.to_vec()) {
            let (mut si, mut di) = (0, 0);
            for k in 0..region.len() {
                si = si * src_dims[k] + src_at[k] + index[k];
                di = di * dst_dims[k] + dst_at[k] + index[k];
            }
            dst[di] = src[si];
        }
        dst
    }

    /// Source shape and start, destination shape and start, block shape.
    type Case<'a> = (
        &'a [usize],
        &'a [usize],
        &'a [usize],
        &'a [usize],
        &'a [usize],
    );

    #[test]
    fn copies_like_the_definition() {
        let cases: [Case; 6] = [
            (
                &[2, 3, 3, 2],
                &[0, 0, 0, 0],
                &[2, 5, 7, 2],
                &[0, 1, 2, 0],
                &[2, 3, 3, 2],
            ),
            (
                &[2, 5, 7, 2],
                &[0, 1, 2, 0],
                &[2, 3, 3, 2],
                &[0, 0, 0, 0],
                &[2, 3, 3, 2],
            ),
            (&[4, 5], &[1, 0], &[3, 5], &[0, 0], &[3, 5]),
            (&[4, 5], &[1, 2], &[3, 3], &[0, 0], &[2, 3]),
            (&[6], &[1], &[4], &[0], &[4]),
            (&[3, 0, 2], &[0, 0, 0], &[3, 0, 2], &[0, 0, 0], &[3, 0, 2]),
        ];
        for (sd, sa, dd, da, region) in cases {
            let src: Vec<i32> = (0..sd.iter().product::<usize>() as i32).collect();
            let mut dst = vec![-1; dd.iter().product()];
            assert!(copy_block(&src, sd, sa, &mut dst, dd, da, region));
            assert_eq!(dst, naive(sd, sa, dd, da, region), "{sd:?} -> {dd:?}");
        }
    }

    #[test]
    fn refuses_blocks_that_do_not_fit() {
        let src = [0; 6];
        let mut dst = [7; 4];
        assert!(!copy_block(
            &src,
            &[2, 3],
            &[0, 1],
            &mut dst,
            &[2, 2],
            &[0, 0],
            &[2, 3]
        ));
        assert!(!copy_block(
            &src,
            &[2, 3],
            &[0, 0],
            &mut dst,
            &[2, 2],
            &[1, 0],
            &[2, 2]
        ));
        assert!(!copy_block(
            &src,
            &[2, 2],
            &[0, 0],
            &mut dst,
            &[2, 2],
            &[0, 0],
            &[2, 2]
        ));
        assert_eq!(dst, [7; 4]);
        let mut one = [0];
        assert!(copy_block(&[5], &[], &[], &mut one, &[], &[], &[]));
        assert_eq!(one, [5]);
    }
}
