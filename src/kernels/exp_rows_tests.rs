//! Tests of `kernels::exp_rows`: every instruction set this CPU runs gives
//! its reference's bits at every length and position, and stays within 1
//! ulp of libm (2 ulp for subnormal results, which round once more).

use crate::kernels::exp_rows::{exp_fma, exp_in_place, exp_plain, exp_shifted};
use crate::kernels::isa::Isa;

/// Distance in units in the last place between two finite doubles of one sign.
fn ulps(a: f64, b: f64) -> u64 {
    (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
}

/// Arguments across the range: a fine sweep of the softmax's (−40, 0], the
/// whole range, the clamp edges, the subnormal results and special values.
fn arguments() -> Vec<f64> {
    let mut xs: Vec<f64> = (0..40_000).map(|i| -(i as f64) * 1e-3).collect();
    xs.extend((-7460..7100).map(|i| i as f64 * 0.1 + 0.0137));
    xs.extend([
        -745.2, -745.13, -745.0, -744.5, -708.4, -708.39, -700.0, 709.7, 709.78,
    ]);
    xs.extend([
        709.79, 709.8, 710.0, 1e300, -1e300, 0.0, -0.0, 1e-300, -1e-300,
    ]);
    xs.extend([
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        0.5 * std::f64::consts::LN_2,
    ]);
    xs
}

#[test]
fn every_path_is_within_an_ulp_of_libm() {
    for x in arguments() {
        let want = x.exp();
        for (name, got) in [("fma", exp_fma(x)), ("plain", exp_plain(x))] {
            if want.is_infinite() || want == 0.0 {
                assert_eq!(got, want, "{name} exp({x:e})");
                continue;
            }
            let bound = if want < f64::MIN_POSITIVE { 2 } else { 1 };
            assert!(
                ulps(got, want) <= bound,
                "{name} exp({x:e}) = {got:e}, libm {want:e}"
            );
        }
    }
    assert!(exp_fma(f64::NAN).is_nan() && exp_plain(f64::NAN).is_nan());
    assert_eq!(exp_fma(0.0), 1.0);
    assert_eq!(exp_plain(-0.0), 1.0);
}

#[test]
fn every_runnable_set_gives_its_references_bits_at_every_length() {
    let xs = arguments();
    for isa in Isa::ALL.into_iter().filter(|i| i.missing().is_empty()) {
        let reference = match isa {
            Isa::Portable => exp_plain,
            _ => exp_fma,
        };
        // Every length up to 20 at several offsets (tails of every size).
        for len in 0..=20 {
            for start in [0, 3, 40_001, 50_000] {
                let mut got = xs[start..start + len].to_vec();
                exp_in_place(isa, &mut got);
                for (k, (&g, &x)) in got.iter().zip(&xs[start..]).enumerate() {
                    let want = reference(x);
                    assert!(
                        g.to_bits() == want.to_bits(),
                        "{isa:?} len {len} lane {k}: exp({x:e}) = {g:e}, reference {want:e}"
                    );
                }
            }
        }
        let mut all = xs.clone();
        exp_in_place(isa, &mut all);
        assert!(all
            .iter()
            .zip(&xs)
            .all(|(g, &x)| g.to_bits() == reference(x).to_bits() || (g.is_nan() && x.is_nan())));
        let mut nan = [1.0, f64::NAN, -2.0];
        exp_in_place(isa, &mut nan);
        assert!(nan[1].is_nan(), "{isa:?}");
    }
}

#[test]
fn a_shifted_row_subtracts_in_f64_first() {
    let row = [1.5f32, -2.0, 3.25];
    let mut out = [0.0; 3];
    exp_shifted(&row, 3.25, &mut out);
    for (o, &v) in out.iter().zip(&row) {
        let want = (f64::from(v) - 3.25).exp();
        assert!(ulps(*o, want) <= 1, "{o} {want}");
    }
    assert_eq!(out[2], 1.0);
}
