//! Value constructors, evaluated at build time into `Tensor`s: `zeros ones fill
//! randn uniform xavier he truncated_normal`, and opening the `.npy` file of
//! `load`. Random values come from our own generator (splitmix64 and Box–Muller,
//! `docs/language-notes.md`), so they never change with a crate or a platform.

use super::infer::check_size;
use super::npy::NpyFile;
use super::tensor::Tensor;
use super::types::{DType, TensorType};
use ndarray::{ArrayD, IxDyn};
use std::path::Path;

/// The splitmix64 generator described in the module header.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    /// The second value of the last Box–Muller pair, not yet used.
    spare_normal: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            spare_normal: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = self.uniform();
        let u2 = self.uniform();
        let r = (-2.0 * (1.0 - u1).ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// A tensor of `ty` whose elements are `f()` in row-major order.
fn generate(ty: &TensorType, mut f: impl FnMut() -> f64) -> Result<Tensor, String> {
    check_size(ty)?;
    let n = ty.shape.numel();
    let dims = IxDyn(ty.shape.dims());
    let bad = |e: ndarray::ShapeError| format!("internal: cannot shape {ty}: {e}");
    Ok(match ty.dtype {
        DType::F32 => Tensor::F32(
            ArrayD::from_shape_vec(dims, (0..n).map(|_| f() as f32).collect()).map_err(bad)?,
        ),
        DType::F64 => {
            Tensor::F64(ArrayD::from_shape_vec(dims, (0..n).map(|_| f()).collect()).map_err(bad)?)
        }
        DType::I32 => Tensor::I32(
            ArrayD::from_shape_vec(dims, (0..n).map(|_| f() as i32).collect()).map_err(bad)?,
        ),
        DType::Bool => Tensor::Bool(
            ArrayD::from_shape_vec(dims, (0..n).map(|_| f() != 0.0).collect()).map_err(bad)?,
        ),
    })
}

fn need_float(name: &str, ty: &TensorType) -> Result<(), String> {
    if ty.dtype.is_float() {
        Ok(())
    } else {
        Err(format!("{name} makes float values, but the type is {ty}"))
    }
}

/// Every element equal to `value` (nonzero is `true` for bool).
pub fn fill(ty: &TensorType, value: f64) -> Result<Tensor, String> {
    check_size(ty)?;
    Ok(Tensor::full(ty, value))
}

pub fn zeros(ty: &TensorType) -> Result<Tensor, String> {
    fill(ty, 0.0)
}

pub fn ones(ty: &TensorType) -> Result<Tensor, String> {
    fill(ty, 1.0)
}

/// Normal values with mean 0 and standard deviation `std`.
pub fn randn(ty: &TensorType, seed: u64, std: f64) -> Result<Tensor, String> {
    need_float("randn", ty)?;
    let mut rng = Rng::new(seed);
    generate(ty, || std * rng.normal())
}

/// Uniform values in `[lo, hi)`.
pub fn uniform(ty: &TensorType, lo: f64, hi: f64, seed: u64) -> Result<Tensor, String> {
    need_float("uniform", ty)?;
    let mut rng = Rng::new(seed);
    generate(ty, || lo + (hi - lo) * rng.uniform())
}

/// Fan-in and fan-out as TensorFlow's Glorot initialiser computes them: `[in, out]`
/// for 2-D; for rank >= 3 (e.g. HWIO filters) the receptive field (the product
/// of all but the last two dims) times the last two; a vector uses its length for
/// both, a scalar 1.
pub fn fans(ty: &TensorType) -> (f64, f64) {
    let d = ty.shape.dims();
    match d.len() {
        0 => (1.0, 1.0),
        1 => (d[0] as f64, d[0] as f64),
        r => {
            let receptive: f64 = d[..r - 2].iter().map(|&x| x as f64).product();
            (receptive * d[r - 2] as f64, receptive * d[r - 1] as f64)
        }
    }
}

/// Glorot (Xavier) uniform: `U(-limit, limit)` with `limit = sqrt(6 / (fan_in + fan_out))`.
pub fn xavier(ty: &TensorType, seed: u64) -> Result<Tensor, String> {
    need_float("xavier", ty)?;
    let (fan_in, fan_out) = fans(ty);
    let limit = if fan_in + fan_out > 0.0 {
        (6.0 / (fan_in + fan_out)).sqrt()
    } else {
        0.0
    };
    uniform(ty, -limit, limit, seed)
}

/// Normal values with mean `mean` and standard deviation `std`, redrawn (the
/// next normal of the stream) while more than two standard deviations from the
/// mean, like TensorFlow's `truncated_normal`. The values' own standard
/// deviation is about `0.88 * std`.
pub fn truncated_normal(ty: &TensorType, seed: u64, mean: f64, std: f64) -> Result<Tensor, String> {
    need_float("truncated_normal", ty)?;
    if !(std.is_finite() && std >= 0.0) {
        return Err(format!(
            "the std must be finite and not negative, got {std}"
        ));
    }
    if !mean.is_finite() {
        return Err(format!("the mean must be finite, got {mean}"));
    }
    let mut rng = Rng::new(seed);
    generate(ty, || {
        // Each draw is inside with probability 0.954: the loop ends.
        let mut z = rng.normal();
        while z.abs() > 2.0 {
            z = rng.normal();
        }
        mean + std * z
    })
}

/// The standard deviation of a standard normal truncated to `[-2, 2]`:
/// dividing by it gives truncated values of a chosen standard deviation
/// (Keras's `VarianceScaling` uses the same constant).
const TRUNCATED_STD: f64 = 0.879_625_661_034_239_8;

/// He normal (Keras's `he_normal`): a normal truncated at two standard
/// deviations whose values have standard deviation `sqrt(2 / fan_in)`, with
/// fan-in as [`fans`] computes it for `xavier`.
pub fn he(ty: &TensorType, seed: u64) -> Result<Tensor, String> {
    need_float("he", ty)?;
    let (fan_in, _) = fans(ty);
    let std = if fan_in > 0.0 {
        (2.0 / fan_in).sqrt() / TRUNCATED_STD
    } else {
        0.0
    };
    truncated_normal(ty, seed, 0.0, std)
}

/// Opens `path` (relative to `base_dir`) as a `.npy` file; its header is
/// checked, its data not read yet (see `NpyFile::read`).
pub fn open_npy(path: &str, base_dir: &Path) -> Result<NpyFile, String> {
    NpyFile::open(&base_dir.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32t(dims: &[usize]) -> TensorType {
        TensorType::new(DType::F32, dims.to_vec())
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of splitmix64 seeded with 0 (the published reference values).
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn randn_is_deterministic_and_roughly_standard() {
        let ty = TensorType::new(DType::F64, vec![20000]);
        let a = randn(&ty, 7, 1.0)
            .map(|t| t.to_f64_vec())
            .unwrap_or_default();
        let b = randn(&ty, 7, 1.0)
            .map(|t| t.to_f64_vec())
            .unwrap_or_default();
        assert_eq!(a, b);
        let c = randn(&ty, 8, 1.0)
            .map(|t| t.to_f64_vec())
            .unwrap_or_default();
        assert_ne!(a, c);
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
        let scaled = randn(&ty, 7, 2.0)
            .map(|t| t.to_f64_vec())
            .unwrap_or_default();
        assert!((scaled[3] - 2.0 * a[3]).abs() < 1e-12);
    }

    #[test]
    fn uniform_and_xavier_limits() {
        let u = uniform(&f32t(&[1000]), -2.0, 3.0, 1).map(|t| t.to_f64_vec());
        let u = u.unwrap_or_default();
        assert!(u.iter().all(|&v| (-2.0..3.0).contains(&v)));
        let w = xavier(&f32t(&[3072, 42]), 3)
            .map(|t| t.to_f64_vec())
            .unwrap_or_default();
        let limit = (6.0f64 / (3072.0 + 42.0)).sqrt();
        assert!(w.iter().all(|&v| v.abs() <= limit));
        assert!(w.iter().any(|&v| v.abs() > 0.9 * limit));
        assert_eq!(fans(&f32t(&[5, 5, 3, 6])), (75.0, 150.0));
        assert_eq!(fans(&f32t(&[7])), (7.0, 7.0));
        assert!(xavier(&TensorType::new(DType::I32, vec![2, 2]), 0).is_err());
    }

    fn mean_std(v: &[f64]) -> (f64, f64) {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn truncated_normal_stays_within_two_std_and_is_deterministic() {
        let ty = TensorType::new(DType::F64, vec![100, 400]);
        let draw = |seed| truncated_normal(&ty, seed, 0.5, 3.0).map(|t| t.to_f64_vec());
        let a = draw(4).unwrap_or_default();
        assert_eq!(a.len(), 40_000);
        assert!(a.iter().all(|v| (v - 0.5).abs() <= 6.0));
        // Some values come close to the cut: it is not a narrower distribution.
        assert!(a.iter().any(|v| (v - 0.5).abs() > 5.9));
        let (mean, std) = mean_std(&a);
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
        // The std of a standard normal truncated to [-2, 2] is 0.8796.
        assert!((std / 3.0 - TRUNCATED_STD).abs() < 0.01, "{std}");
        assert_eq!(Ok(a.clone()), draw(4));
        assert_ne!(Ok(a), draw(5));
        assert!(truncated_normal(&ty, 0, 0.0, -1.0).is_err());
        assert!(truncated_normal(&TensorType::new(DType::I32, vec![2]), 0, 0.0, 1.0).is_err());
    }

    #[test]
    fn he_has_std_sqrt_2_over_fan_in() {
        // fan-in 5 * 5 * 16 = 400 for an HWIO filter, as xavier computes it.
        let ty = f32t(&[5, 5, 16, 200]);
        let w = he(&ty, 9).map(|t| t.to_f64_vec()).unwrap_or_default();
        assert_eq!(w.len(), 80_000);
        let want = (2.0f64 / 400.0).sqrt();
        let (mean, std) = mean_std(&w);
        assert!(mean.abs() < 0.01 * want * 10.0, "{mean}");
        assert!((std / want - 1.0).abs() < 0.02, "{std} vs {want}");
        // Nothing beyond two standard deviations of the underlying normal.
        let cut = 2.0 * want / TRUNCATED_STD;
        assert!(w.iter().all(|v| v.abs() <= cut * (1.0 + 1e-6)));
        assert_eq!(he(&ty, 9).map(|t| t.to_f64_vec()), Ok(w.clone()));
        assert_ne!(he(&ty, 10).map(|t| t.to_f64_vec()), Ok(w));
        let dense = he(&TensorType::new(DType::F64, vec![3000, 20]), 1)
            .map(|t| t.to_f64_vec())
            .unwrap_or_default();
        let (_, std) = mean_std(&dense);
        assert!((std / (2.0f64 / 3000.0).sqrt() - 1.0).abs() < 0.02, "{std}");
        assert!(he(&TensorType::new(DType::I32, vec![2, 2]), 0).is_err());
    }

    #[test]
    fn fill_zeros_ones() {
        let ty = TensorType::new(DType::I32, vec![2, 3]);
        assert_eq!(fill(&ty, 7.0).map(|t| t.to_f64_vec()), Ok(vec![7.0; 6]));
        assert_eq!(zeros(&ty).map(|t| t.ty()), Ok(ty.clone()));
        assert_eq!(
            ones(&f32t(&[2])).map(|t| t.to_f64_vec()),
            Ok(vec![1.0, 1.0])
        );
        assert!(zeros(&f32t(&[1 << 40, 1 << 40])).is_err());
    }

    #[test]
    fn load_reports_missing_files() {
        let e = open_npy("no/such/file.npy", Path::new("/nonexistent")).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }
}
