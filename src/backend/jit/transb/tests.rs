//! Tests of the blockwise transposed-right-operand products.

use super::{blocks, chunks_agree, product, transpose_block, whole, Operands, NB};
use crate::backend::jit::gemm::Layout;

#[test]
fn blocks_cover_the_columns_in_wide_enough_pieces() {
    for (start, end) in [(0, 1024), (0, 129), (512, 1024), (3, 5), (0, 300)] {
        let got: Vec<(usize, usize)> = blocks(start..end).collect();
        let mut at = start;
        for &(n0, nb) in &got {
            assert_eq!(n0, at, "{start}..{end}: {got:?}");
            assert!(nb <= NB && (nb >= NB / 2 || got.len() == 1), "{got:?}");
            at += nb;
        }
        assert_eq!(at, end, "{start}..{end}: {got:?}");
    }
}

#[test]
fn block_transposes_are_exact() {
    // Full and partial tiles, read from inside a wider source.
    for (rows, cols, stride) in [(37, 53, 40), (16, 16, 16), (64, 33, 70), (1, 5, 3)] {
        let src: Vec<u32> = (0..cols * stride).map(|i| i as u32 * 7 + 1).collect();
        let mut dst = vec![0; rows * cols];
        transpose_block(&src, stride, &mut dst, (rows, cols), None);
        for (i, &v) in dst.iter().enumerate() {
            assert_eq!(v, src[(i % cols) * stride + i / cols], "{rows}x{cols}");
        }
    }
}

#[test]
fn whole_tile_transposes_are_exact() {
    // The f32 tile function of every instruction set this CPU runs, with
    // partial tiles around it done by the scalar loop.
    use crate::kernels::isa::Isa;
    for isa in Isa::ALL.into_iter().filter(|i| i.missing().is_empty()) {
        let Some(fast) = super::tile::for_isa(isa) else {
            assert_eq!(isa, Isa::Portable, "a vector set without a tile");
            continue;
        };
        for (rows, cols, stride) in [(16, 16, 16), (37, 53, 40), (64, 48, 70), (512, 128, 1024)] {
            let src: Vec<f32> = (0..cols * stride).map(|i| i as f32).collect();
            let mut dst = vec![-1.0; rows * cols];
            transpose_block(&src, stride, &mut dst, (rows, cols), Some(fast));
            for (i, &v) in dst.iter().enumerate() {
                assert_eq!(
                    v,
                    src[(i % cols) * stride + i / cols],
                    "{isa:?} {rows}x{cols} at {i}"
                );
            }
        }
    }
}

fn check<T>(mkn: (usize, usize, usize), la: Layout, threads: usize)
where
    T: 'static + Copy + Default + Send + Sync + super::Probe,
{
    let (m, k, n) = mkn;
    let value = |i: usize| T::from_f64(((i * 104_729 % 2003) as f64 - 1001.0) / 91.0);
    let a: Vec<T> = (0..m * k).map(value).collect();
    let b: Vec<T> = (0..n * k).map(|i| value(i + 17)).collect();
    let mut c = vec![T::default(); m * n];
    // SAFETY: as in `whole`.
    unsafe {
        let ops = Operands::new(a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), mkn, la);
        product(ops, T::one(), threads, &mut Vec::new());
    }
    let want = whole(&a, &b, mkn, la);
    let same = c.iter().zip(&want).all(|(x, y)| x.bits() == y.bits());
    assert!(
        same,
        "{mkn:?} {la:?} on {threads} threads: not bitwise gemm's"
    );
}

#[test]
fn blockwise_products_are_bitwise_gemms() {
    // gemm 0.19's depth chunk is 512 unless L1 is over 128 KiB.
    assert!(chunks_agree::<f32>() && chunks_agree::<f64>());
    // Several depth chunks (1030: 344 + 343 + 343; 1024: 512 + 512), odd
    // column blocks, a transposed left operand, and the split over threads
    // (400 columns: three ranges on three threads).
    for threads in [1, 2, 3] {
        check::<f32>((130, 1030, 300), Layout::Rows, threads);
        check::<f32>((130, 1030, 400), Layout::Rows, threads);
        check::<f32>((256, 1024, 260), Layout::Rows, threads);
        check::<f32>((200, 600, 129), Layout::Trans, threads);
        check::<f64>((140, 700, 270), Layout::Rows, threads);
    }
}
