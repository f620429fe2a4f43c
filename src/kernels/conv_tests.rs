use super::*;

/// The definition, one product at a time: (out, dx, dw) in f64.
pub(super) fn naive(s: &Conv, x: &[f64], w: &[f64], g: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let [n, h, wd, c] = s.x;
    let [kh, kw, _, o] = s.w;
    let [_, oh, ow, _] = s.out;
    let mut out = vec![0.0; g.len()];
    let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    for image in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * s.strides[0] + ky) as i64 - s.pads[0] as i64;
                        let ix = (ox * s.strides[1] + kx) as i64 - s.pads[2] as i64;
                        if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                            continue;
                        }
                        let (iy, ix) = (iy as usize, ix as usize);
                        for ci in 0..c {
                            for oi in 0..o {
                                let xi = ((image * h + iy) * wd + ix) * c + ci;
                                let wi = ((ky * kw + kx) * c + ci) * o + oi;
                                let gi = ((image * oh + oy) * ow + ox) * o + oi;
                                out[gi] += x[xi] * w[wi];
                                dx[xi] += g[gi] * w[wi];
                                dw[wi] += x[xi] * g[gi];
                            }
                        }
                    }
                }
            }
        }
    }
    (out, dx, dw)
}

fn values(n: usize, k: f64) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * k).sin()).collect()
}

/// Input, filter, strides, pads.
type Case = ([usize; 4], [usize; 4], [usize; 2], [usize; 4]);

const CASES: [Case; 7] = [
    ([3, 5, 6, 2], [3, 2, 2, 3], [1, 1], [0, 0, 0, 0]),
    ([2, 7, 5, 3], [3, 3, 3, 2], [2, 3], [1, 2, 0, 1]),
    ([1, 4, 4, 1], [5, 5, 1, 2], [1, 1], [2, 2, 2, 2]),
    // Windows wider than the input on one side; a window of padding only.
    ([2, 3, 2, 2], [3, 4, 2, 3], [2, 2], [3, 1, 0, 4]),
    // Many images: several chunks, the last one partial.
    ([301, 3, 3, 1], [2, 2, 1, 1], [1, 1], [0, 0, 0, 0]),
    ([37, 9, 8, 3], [3, 3, 3, 4], [1, 1], [1, 1, 1, 1]),
    // The convnet's second layer on a few images.
    ([3, 34, 34, 6], [3, 3, 6, 9], [1, 1], [0, 0, 0, 0]),
];

#[test]
fn kernels_match_the_definition_in_f64() {
    for (xd, wd, strides, pads) in CASES {
        let s = Conv::new(xd, wd, strides, pads).unwrap();
        let x = values(xd.iter().product(), 0.7);
        let w = values(wd.iter().product(), 1.3);
        let g = values(s.out().iter().product(), 0.9);
        let (out, dx, dw) = naive(&s, &x, &w, &g);
        let mut got = (
            vec![9.0; out.len()],
            vec![9.0; dx.len()],
            vec![9.0; dw.len()],
        );
        conv2d(&s, &x, &w, &mut got.0).unwrap();
        conv2d_backprop_input(&s, &g, &w, &mut got.1).unwrap();
        conv2d_backprop_filter(&s, &x, &g, &mut got.2).unwrap();
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-11);
        assert!(close(&got.0, &out), "forward {xd:?} {wd:?}");
        assert!(close(&got.1, &dx), "input {xd:?} {wd:?}");
        assert!(close(&got.2, &dw), "filter {xd:?} {wd:?}");
    }
}

#[test]
fn f32_and_i32_kernels_match_the_definition() {
    for (xd, wd, strides, pads) in CASES {
        let s = Conv::new(xd, wd, strides, pads).unwrap();
        let ints = |n: usize, k: usize| {
            (0..n)
                .map(|i| ((i * k) % 7) as f64 - 3.0)
                .collect::<Vec<_>>()
        };
        let x = ints(xd.iter().product(), 3);
        let w = ints(wd.iter().product(), 5);
        let g = ints(s.out().iter().product(), 2);
        let (out, dx, dw) = naive(&s, &x, &w, &g);
        let as_f32 = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<_>>();
        let as_i32 = |v: &[f64]| v.iter().map(|&a| a as i32).collect::<Vec<_>>();
        // Small integers: every partial sum is exact in f32, so any order agrees.
        let mut f = (
            vec![0f32; out.len()],
            vec![0f32; dx.len()],
            vec![0f32; dw.len()],
        );
        conv2d(&s, &as_f32(&x), &as_f32(&w), &mut f.0).unwrap();
        conv2d_backprop_input(&s, &as_f32(&g), &as_f32(&w), &mut f.1).unwrap();
        conv2d_backprop_filter(&s, &as_f32(&x), &as_f32(&g), &mut f.2).unwrap();
        assert_eq!((f.0, f.1, f.2), (as_f32(&out), as_f32(&dx), as_f32(&dw)));
        let mut i = (
            vec![0i32; out.len()],
            vec![0i32; dx.len()],
            vec![0i32; dw.len()],
        );
        conv2d(&s, &as_i32(&x), &as_i32(&w), &mut i.0).unwrap();
        conv2d_backprop_input(&s, &as_i32(&g), &as_i32(&w), &mut i.1).unwrap();
        conv2d_backprop_filter(&s, &as_i32(&x), &as_i32(&g), &mut i.2).unwrap();
        assert_eq!((i.0, i.1, i.2), (as_i32(&out), as_i32(&dx), as_i32(&dw)));
    }
}

#[test]
fn empty_shapes_give_zeros_or_nothing() {
    // No images; no channels; an output of size 0 (window larger than input).
    for (xd, wd) in [
        ([0, 4, 4, 2], [2, 2, 2, 3]),
        ([2, 4, 4, 0], [2, 2, 0, 3]),
        ([2, 2, 2, 1], [3, 3, 1, 2]),
        ([2, 4, 4, 1], [2, 2, 1, 0]),
    ] {
        let s = Conv::new(xd, wd, [1, 1], [0; 4]).unwrap();
        let (nx, nw, no) = (
            xd.iter().product::<usize>(),
            wd.iter().product::<usize>(),
            s.out().iter().product::<usize>(),
        );
        let mut out = vec![1f32; no];
        conv2d(&s, &vec![1.0; nx], &vec![1.0; nw], &mut out).unwrap();
        assert!(out.iter().all(|&v| v == 0.0), "{xd:?} {wd:?}");
        let mut dx = vec![1f32; nx];
        conv2d_backprop_input(&s, &vec![1.0; no], &vec![1.0; nw], &mut dx).unwrap();
        assert!(dx.iter().all(|&v| v == 0.0));
        let mut dw = vec![1f32; nw];
        conv2d_backprop_filter(&s, &vec![1.0; nx], &vec![1.0; no], &mut dw).unwrap();
        assert!(dw.iter().all(|&v| v == 0.0));
    }
}

#[test]
fn shapes_that_do_not_fit_are_errors() {
    assert!(Conv::new([1, 4, 4, 2], [2, 2, 3, 1], [1, 1], [0; 4]).is_err());
    assert!(Conv::new([1, 4, 4, 2], [2, 2, 2, 1], [0, 1], [0; 4]).is_err());
    assert!(Conv::new([1, 4, 4, 2], [2, 2, 2, 1], [1, 1], [usize::MAX, 1, 0, 0]).is_err());
    let s = Conv::new([1, 4, 4, 2], [2, 2, 2, 1], [1, 1], [0; 4]).unwrap();
    assert_eq!(s.out(), [1, 3, 3, 1]);
    let mut out = vec![0f32; 9];
    assert!(conv2d(&s, &[0.0; 31], &[0.0; 8], &mut out).is_err());
    assert!(conv2d(&s, &[0.0; 32], &[0.0; 8], &mut out[..8]).is_err());
    assert!(conv2d_backprop_filter(&s, &[0.0; 32], &[0.0; 9], &mut [0.0; 7]).is_err());
    assert!(conv2d_backprop_input(&s, &[0.0; 8], &[0.0; 8], &mut [0.0; 32]).is_err());
}

#[test]
fn dense_stride_one_convolutions_take_the_implicit_gemm() {
    // The convnet's layers: the overlapping window views must be accepted, or
    // the kernels silently fall back to im2col.
    for (xd, wd) in [
        ([2, 36, 36, 3], [5, 5, 3, 6]),
        ([2, 34, 34, 6], [3, 3, 6, 9]),
    ] {
        let s = Conv::new(xd, wd, [1, 1], [0; 4]).unwrap();
        assert!(s.wide());
        let x = vec![1f32; xd.iter().product()];
        let (w, g) = (
            vec![1f32; wd.iter().product()],
            vec![1f32; s.out().iter().product()],
        );
        let mut out = vec![0f32; g.len()];
        assert!(wide::conv2d(&s, &x, &w, &mut out));
        let patch = (wd[0] * wd[1] * wd[2]) as f32;
        assert!(out.iter().all(|&v| v == patch));
        let mut dw = vec![0f32; w.len()];
        assert!(wide::backprop_filter(&s, &x, &g, &mut dw));
        let rows = (s.out()[0] * s.out()[1] * s.out()[2]) as f32;
        assert!(dw.iter().all(|&v| v == rows));
        // Interior input positions are read by every window position and channel.
        let mut dx = vec![0f32; x.len()];
        assert!(wide::backprop_input(&s, &g, &w, &mut dx));
        let [_, h, wdt, c] = xd;
        let centre = ((h / 2) * wdt + wdt / 2) * c;
        assert_eq!(dx[centre], (wd[0] * wd[1] * wd[3]) as f32);
    }
    assert!(!Conv::new([1, 4, 4, 1], [2, 2, 1, 1], [1, 1], [1, 0, 0, 0])
        .unwrap()
        .wide());
    assert!(!Conv::new([1, 4, 4, 1], [2, 2, 1, 1], [2, 1], [0; 4])
        .unwrap()
        .wide());
}
