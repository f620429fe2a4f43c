use super::filter::filter_by;
use super::*;
use crate::kernels::conv::{tests::naive, wide};

pub(crate) fn values(n: usize, k: f64) -> Vec<f32> {
    (0..n).map(|i| (i as f64 * k).sin() as f32).collect()
}

pub(crate) fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|a| a.to_bits()).collect()
}

/// The instruction sets this CPU can run (portable everywhere).
pub(crate) fn runnable() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.missing().is_empty())
        .collect()
}

/// (forward, input gradient, filter gradient) by the lanes of `isa`.
pub(crate) fn run_by(isa: Isa, s: &Conv, x: &[f32], w: &[f32], g: &[f32]) -> [Vec<f32>; 3] {
    let mut r = [vec![0.0; g.len()], vec![0.0; x.len()], vec![0.0; w.len()]];
    let p = plan(s).expect("a stride-1 convolution");
    forward_by(isa, &p, x, w, &mut r[0]);
    let forward = |c: &Conv, a: &[f32], b: &[f32], out: &mut [f32]| {
        plan(c).map(|p| forward_by(isa, &p, a, b, out)).is_some()
    };
    assert!(input_by(s, g, w, &mut r[1], forward));
    filter_by(isa, &p, x, g, &mut r[2]);
    r
}

pub(crate) fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            ((*a as f64) - b).abs() < 1e-4 * (1.0 + b.abs()),
            "{what} [{i}]: {a} {b}"
        );
    }
}

pub(crate) fn wide64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&a| a as f64).collect()
}

#[test]
fn forward_and_input_gradient_keep_the_implicit_gemm_bits() {
    // The convnet's layers (two images): the golden outputs depend on this.
    // The FMA lanes sum as the implicit GEMM does, bit for bit; the portable
    // ones (two roundings per product) within tolerance.
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
        for isa in runnable() {
            let got = run_by(isa, &s, &x, &w, &g);
            if isa.has_fma() {
                assert_eq!(bits(&got[0]), bits(&gemm.0), "forward {xd:?} {isa:?}");
                assert_eq!(bits(&got[1]), bits(&gemm.1), "input {xd:?} {isa:?}");
            } else {
                assert_close(&got[0], &wide64(&gemm.0), "portable forward");
                assert_close(&got[1], &wide64(&gemm.1), "portable input");
            }
        }
    }
}

#[test]
fn every_runnable_lanes_type_matches_the_definition_and_vectors_agree_bitwise() {
    // Tails of rows (widths 21, 4, 40, 17, 33), 13 channels (a group of 12 and
    // one of 1), two-vector blocks (7 channels), padding on every side.
    let cases: [([usize; 4], [usize; 4], [usize; 4]); 5] = [
        ([2, 7, 21, 3], [3, 4, 3, 13], [1, 2, 0, 3]),
        ([1, 5, 5, 2], [2, 2, 2, 1], [0; 4]),
        ([3, 4, 40, 1], [1, 3, 1, 7], [0, 0, 1, 1]),
        ([2, 6, 17, 5], [3, 3, 5, 9], [1, 1, 1, 1]),
        ([1, 3, 33, 7], [2, 5, 7, 25], [0, 1, 2, 2]),
    ];
    check_against_definition(&cases, run_by);
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
    for isa in runnable() {
        let mut dw = vec![0.0f32; 3];
        filter_by(isa, &plan(&s).unwrap(), &x, &g, &mut dw);
        assert_eq!(&dw[..2], &[9.0, 9.0], "{isa:?}");
        assert_eq!(dw[2], f32::INFINITY, "{isa:?}");
    }
    // And through the dispatch.
    let mut dw = vec![0.0f32; 3];
    assert!(backprop_filter(&s, &x, &g, &mut dw));
    assert_eq!(&dw[..2], &[9.0, 9.0]);
}

/// Runs a convolution's three kernels with one instruction set.
pub(crate) type RunBy = fn(Isa, &Conv, &[f32], &[f32], &[f32]) -> [Vec<f32>; 3];

/// For every case: each runnable instruction set's (forward, input
/// gradient, filter gradient) by `run` matches the f64 definition, and
/// AVX-512 and AVX2 agree bit for bit.
pub(crate) fn check_against_definition(cases: &[([usize; 4], [usize; 4], [usize; 4])], run: RunBy) {
    let isas = runnable();
    assert!(isas.contains(&Isa::Portable));
    for &(xd, wd, pads) in cases {
        let s = Conv::new(xd, wd, [1, 1], pads).unwrap();
        let x = values(xd.iter().product(), 0.7);
        let w = values(wd.iter().product(), 1.3);
        let g = values(s.out().iter().product(), 0.9);
        let exact = naive(&s, &wide64(&x), &wide64(&w), &wide64(&g));
        let want = [exact.0, exact.1, exact.2];
        let mut vector: Option<[Vec<f32>; 3]> = None;
        for &isa in &isas {
            let got = run(isa, &s, &x, &w, &g);
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                assert_close(a, b, &format!("{isa:?} {xd:?} {wd:?} output {k}"));
            }
            if isa.has_fma() {
                // AVX-512 and AVX2 do the same operations in each lane.
                if let Some(first) = &vector {
                    for (a, b) in got.iter().zip(first) {
                        assert_eq!(bits(a), bits(b), "{isa:?} {xd:?} {wd:?}");
                    }
                }
                vector = Some(got);
            }
        }
    }
}
