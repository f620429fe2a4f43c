use super::filter::filter_with;
use super::*;
use crate::kernels::conv::{tests::naive, wide};

fn values(n: usize, k: f64) -> Vec<f32> {
    (0..n).map(|i| (i as f64 * k).sin() as f32).collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|a| a.to_bits()).collect()
}

fn portable_forward(conv: &Conv, x: &[f32], w: &[f32], out: &mut [f32]) -> bool {
    plan(conv)
        // SAFETY: the portable lanes are plain Rust.
        .map(|p| unsafe { forward_with::<Portable>(&p, x, w, out) })
        .is_some()
}

fn portable_filter(conv: &Conv, x: &[f32], g: &[f32], dw: &mut [f32]) -> bool {
    plan(conv)
        // SAFETY: the portable lanes are plain Rust.
        .map(|p| unsafe { filter_with::<Portable>(&p, x, g, dw) })
        .is_some()
}

/// (forward, input gradient, filter gradient) by the dispatched kernels and
/// by the portable lanes.
type Both = ([Vec<f32>; 3], [Vec<f32>; 3]);

fn run_both(s: &Conv, x: &[f32], w: &[f32], g: &[f32]) -> Both {
    let zeros = || [vec![0.0; g.len()], vec![0.0; x.len()], vec![0.0; w.len()]];
    let (mut a, mut b) = (zeros(), zeros());
    assert!(conv2d(s, x, w, &mut a[0]));
    assert!(backprop_input(s, g, w, &mut a[1]));
    assert!(backprop_filter(s, x, g, &mut a[2]));
    assert!(portable_forward(s, x, w, &mut b[0]));
    assert!(input_by(s, g, w, &mut b[1], portable_forward));
    assert!(portable_filter(s, x, g, &mut b[2]));
    (a, b)
}

#[test]
fn forward_and_input_gradient_keep_the_implicit_gemm_bits() {
    // The convnet's layers (two images): the golden outputs depend on this.
    for (xd, wd) in [
        ([2, 36, 36, 3], [5, 5, 3, 6]),
        ([2, 34, 34, 6], [3, 3, 6, 9]),
    ] {
        let s = Conv::new(xd, wd, [1, 1], [0; 4]).unwrap();
        let x = values(xd.iter().product(), 0.37);
        let w = values(wd.iter().product(), 1.13);
        let g = values(s.out().iter().product(), 0.71);
        let mut gemm = (vec![0.0; g.len()], vec![0.0; x.len()]);
        assert!(wide::conv2d(&s, &x, &w, &mut gemm.0));
        assert!(wide::backprop_input(&s, &g, &w, &mut gemm.1));
        let (direct, portable) = run_both(&s, &x, &w, &g);
        assert_eq!(bits(&direct[0]), bits(&gemm.0), "forward {xd:?}");
        assert_eq!(bits(&direct[1]), bits(&gemm.1), "input {xd:?}");
        assert_eq!(bits(&portable[0]), bits(&gemm.0));
        assert_eq!(bits(&portable[1]), bits(&gemm.1));
    }
}

#[test]
fn vector_and_portable_lanes_agree_bitwise_and_with_the_definition() {
    // Tails of rows (widths 21, 4, 40), 13 channels (a group of 12 and one of
    // 1), two-vector blocks (7 channels), padding on every side.
    let cases: [([usize; 4], [usize; 4], [usize; 4]); 4] = [
        ([2, 7, 21, 3], [3, 4, 3, 13], [1, 2, 0, 3]),
        ([1, 5, 5, 2], [2, 2, 2, 1], [0; 4]),
        ([3, 4, 40, 1], [1, 3, 1, 7], [0, 0, 1, 1]),
        ([2, 6, 17, 5], [3, 3, 5, 9], [1, 1, 1, 1]),
    ];
    for (xd, wd, pads) in cases {
        let s = Conv::new(xd, wd, [1, 1], pads).unwrap();
        let x = values(xd.iter().product(), 0.7);
        let w = values(wd.iter().product(), 1.3);
        let g = values(s.out().iter().product(), 0.9);
        let (direct, portable) = run_both(&s, &x, &w, &g);
        for (d, p) in direct.iter().zip(&portable) {
            assert_eq!(bits(d), bits(p), "{xd:?} {wd:?}");
        }
        let wide64 = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<_>>();
        let exact = naive(&s, &wide64(&x), &wide64(&w), &wide64(&g));
        for (got, want) in direct.iter().zip([exact.0, exact.1, exact.2]) {
            for (a, b) in got.iter().zip(&want) {
                assert!(
                    ((*a as f64) - b).abs() < 1e-4 * (1.0 + b.abs()),
                    "{xd:?}: {a} {b}"
                );
            }
        }
    }
}

#[test]
fn filter_gradient_skips_values_past_the_last_window() {
    // Lanes past the output width read real inputs (here an infinity) with a
    // zero gradient; they must not turn a finite sum into NaN.
    let s = Conv::new([1, 3, 5, 1], [1, 3, 1, 1], [1, 1], [0; 4]).unwrap();
    let mut x = vec![1.0f32; 15];
    for row in x.chunks_exact_mut(5) {
        row[4] = f32::INFINITY;
    }
    let g = vec![1.0f32; 9];
    let mut dw = vec![0.0f32; 3];
    assert!(backprop_filter(&s, &x, &g, &mut dw));
    assert_eq!(&dw[..2], &[9.0, 9.0]);
    assert_eq!(dw[2], f32::INFINITY);
}
