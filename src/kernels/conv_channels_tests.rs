use super::*;
use crate::kernels::conv::direct::tests::{
    assert_close, bits, check_against_definition, run_by as planar, runnable, values, wide64,
};
use crate::kernels::conv::direct::{forward_by as planar_forward_by, input_by, plan};

/// (forward, input gradient, filter gradient) by these kernels and `isa`.
fn channels(isa: Isa, s: &Conv, x: &[f32], w: &[f32], g: &[f32]) -> [Vec<f32>; 3] {
    let mut r = [
        vec![0.0; g.len()],
        vec![0.0; x.len()],
        vec![f32::NAN; w.len()],
    ];
    let lay = Layout::new(s).expect("a small stride-1 convolution");
    forward_by(isa, &lay, x, w, &mut r[0]);
    // The input gradient's forward has `c` output channels: the planar
    // kernels take it when `c` is not a multiple of 16, as `conv2d` does.
    let forward = |c: &Conv, a: &[f32], b: &[f32], out: &mut [f32]| match Layout::new(c) {
        Some(l) => {
            forward_by(isa, &l, a, b, out);
            true
        }
        None => plan(c)
            .map(|p| planar_forward_by(isa, &p, a, b, out))
            .is_some(),
    };
    assert!(input_by(s, g, w, &mut r[1], forward));
    filter_by(isa, &lay, x, g, &mut r[2]);
    r
}

/// The digits convnet's layers (SAME, 8x8 and 4x4 images), 48 channels (a
/// two-vector group and a one-vector group), VALID with uneven pads, batches
/// that end in a partial chunk and partial position blocks.
const CASES: [([usize; 4], [usize; 4], [usize; 4]); 5] = [
    ([5, 8, 8, 1], [3, 3, 1, 16], [1, 1, 1, 1]),
    ([7, 4, 4, 16], [3, 3, 16, 32], [1, 1, 1, 1]),
    ([3, 5, 3, 6], [2, 3, 6, 48], [0, 1, 2, 0]),
    ([2, 6, 7, 3], [3, 3, 3, 16], [0; 4]),
    ([33, 4, 4, 2], [3, 3, 2, 32], [1, 1, 1, 1]),
];

#[test]
fn every_runnable_lanes_type_matches_the_definition_and_vectors_agree_bitwise() {
    check_against_definition(&CASES, channels);
}

#[test]
fn forward_and_input_gradient_keep_the_planar_kernels_bits() {
    // The same chains in the same order: the golden outputs depend on this.
    for (xd, wd, pads) in CASES {
        let s = Conv::new(xd, wd, [1, 1], pads).unwrap();
        let x = values(xd.iter().product(), 0.37);
        let w = values(wd.iter().product(), 1.13);
        let g = values(s.out().iter().product(), 0.71);
        for isa in runnable() {
            let got = channels(isa, &s, &x, &w, &g);
            let want = planar(isa, &s, &x, &w, &g);
            assert_eq!(bits(&got[0]), bits(&want[0]), "forward {xd:?} {isa:?}");
            assert_eq!(bits(&got[1]), bits(&want[1]), "input {xd:?} {isa:?}");
            let exact = wide64(&want[2]);
            assert_close(&got[2], &exact, &format!("filter {xd:?} {isa:?}"));
        }
    }
}

#[test]
fn only_small_images_with_whole_channel_vectors_take_these_kernels() {
    let layout = |x: [usize; 4], w: [usize; 4], strides, pads| {
        Layout::new(&Conv::new(x, w, strides, pads).unwrap()).is_some()
    };
    assert!(layout([32, 8, 8, 1], [3, 3, 1, 16], [1, 1], [1, 1, 1, 1]));
    assert!(layout([32, 4, 4, 16], [3, 3, 16, 32], [1, 1], [1, 1, 1, 1]));
    // The input gradient's forward: 32 channels in, 16 out.
    assert!(layout([32, 4, 4, 32], [3, 3, 32, 16], [1, 1], [1, 1, 1, 1]));
    assert!(!layout([2, 16, 16, 1], [3, 3, 1, 16], [1, 1], [1, 1, 1, 1]));
    assert!(!layout([2, 8, 8, 1], [3, 3, 1, 12], [1, 1], [1, 1, 1, 1]));
    assert!(!layout([2, 8, 8, 1], [3, 3, 1, 16], [2, 2], [1, 1, 1, 1]));
}

#[test]
fn the_dispatch_runs_these_kernels_for_the_convnet_layers() {
    // Through `conv2d`: the same bits as calling them by the active set.
    let s = Conv::new([4, 4, 4, 16], [3, 3, 16, 32], [1, 1], [1, 1, 1, 1]).unwrap();
    let x = values(4 * 4 * 4 * 16, 0.3);
    let w = values(9 * 16 * 32, 0.8);
    let g = values(4 * 4 * 4 * 32, 0.5);
    let want = channels(crate::kernels::isa::active(), &s, &x, &w, &g);
    let mut out = vec![0.0; g.len()];
    assert!(crate::kernels::conv::direct::conv2d(&s, &x, &w, &mut out));
    assert_eq!(bits(&out), bits(&want[0]));
    let mut dw = vec![0.0; w.len()];
    assert!(crate::kernels::conv::direct::backprop_filter(
        &s, &x, &g, &mut dw
    ));
    assert_eq!(bits(&dw), bits(&want[2]));
}
