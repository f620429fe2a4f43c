//! The one place that chooses the instruction set of the hand-written kernels
//! and of the JIT's code (`docs/kernels.md`): process-wide, the best set this CPU
//! has unless the front end asks [`select`] for a lower one (`TDSL_ISA`,
//! `--isa`). This module reads no environment variable. The `gemm` crate picks
//! its own kernels.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the kernels can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F (sixteen-float registers), with FMA.
    Avx512,
    /// AVX2 and FMA (eight-float registers, two per sixteen lanes).
    Avx2,
    /// Plain Rust for the target's baseline; no FMA (`a * b + c`).
    Portable,
}

/// The environment variable that forces a set.
pub const ENV: &str = "TDSL_ISA";

impl Isa {
    /// Every set, best first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2, Isa::Portable];

    /// The name used by `TDSL_ISA` and `--isa`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// The set named `text` (as [`Isa::name`] spells it).
    pub fn parse(text: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name() == text)
    }

    /// The CPU features this set needs, as `is_x86_feature_detected!` names them.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Isa::Avx512 => &["avx512f", "avx2", "fma"],
            Isa::Avx2 => &["avx2", "fma"],
            Isa::Portable => &[],
        }
    }

    /// Whether code of this set uses fused multiply-adds.
    pub fn has_fma(self) -> bool {
        self != Isa::Portable
    }

    /// The features of this set that `has` says the CPU lacks.
    pub fn missing_with(self, has: impl Fn(&str) -> bool) -> Vec<&'static str> {
        self.features()
            .iter()
            .copied()
            .filter(|f| !has(f))
            .collect()
    }

    /// The features of this set that this CPU lacks (empty: it can run here).
    pub fn missing(self) -> Vec<&'static str> {
        self.missing_with(cpu_has)
    }
}

/// Whether this CPU has `feature` (a name from [`Isa::features`]).
fn cpu_has(feature: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match feature {
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "fma" => std::arch::is_x86_feature_detected!("fma"),
            _ => false,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = feature;
        false
    }
}

/// The best set this CPU has.
pub fn detect() -> Isa {
    Isa::ALL
        .into_iter()
        .find(|isa| isa.missing().is_empty())
        .unwrap_or(Isa::Portable)
}

/// Why a requested set cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum IsaError {
    /// `TDSL_ISA` names no set (a usage error).
    Unknown(String),
    /// The CPU lacks these features of the set.
    Missing(Isa, Vec<&'static str>),
}

impl std::fmt::Display for IsaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IsaError::Unknown(text) => write!(
                f,
                "invalid value '{text}' for {ENV}: expected avx512, avx2 or portable"
            ),
            IsaError::Missing(isa, features) => write!(
                f,
                "this CPU cannot run the {} kernels: it lacks {}",
                isa.name(),
                features.join(", ")
            ),
        }
    }
}

/// 0: not chosen yet; otherwise 1 + the index in [`Isa::ALL`].
static ACTIVE: AtomicU8 = AtomicU8::new(0);

fn store(isa: Isa) {
    let index = Isa::ALL.iter().position(|&i| i == isa).unwrap_or(2);
    ACTIVE.store(index as u8 + 1, Ordering::Relaxed);
}

/// Chooses the set for this process: `flag` (`--isa`) if given, else `env`
/// (the value of `TDSL_ISA`, which the front end read), else the detected
/// best. Errors if the request is unknown or needs features this CPU lacks;
/// the choice is then unchanged.
pub fn select(flag: Option<Isa>, env: Option<&str>) -> Result<Isa, IsaError> {
    let isa = resolve(flag, env, cpu_has)?;
    store(isa);
    Ok(isa)
}

/// The set that `flag`, else the environment's value `env`, else the best
/// that `has` allows, asks for; an error if it is unknown or needs features
/// `has` denies.
pub fn resolve(
    flag: Option<Isa>,
    env: Option<&str>,
    has: impl Fn(&str) -> bool + Copy,
) -> Result<Isa, IsaError> {
    let wanted = match (flag, env) {
        (Some(isa), _) => Some(isa),
        (None, Some(text)) if !text.is_empty() => {
            Some(Isa::parse(text).ok_or_else(|| IsaError::Unknown(text.to_string()))?)
        }
        _ => None,
    };
    let best = || {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.missing_with(has).is_empty())
            .unwrap_or(Isa::Portable)
    };
    let isa = wanted.unwrap_or_else(best);
    let missing = isa.missing_with(has);
    if !missing.is_empty() {
        return Err(IsaError::Missing(isa, missing));
    }
    Ok(isa)
}

/// The set in effect: the last [`select`], else the detected best.
pub fn active() -> Isa {
    match ACTIVE.load(Ordering::Relaxed) {
        0 => {
            let isa = detect();
            store(isa);
            isa
        }
        n => Isa::ALL[(n as usize - 1).min(2)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_rejected() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse("sse"), None);
        assert_eq!(Isa::parse("AVX2"), None);
    }

    #[test]
    fn missing_features_are_named() {
        let zen3 = |f: &str| f != "avx512f";
        assert_eq!(Isa::Avx512.missing_with(zen3), vec!["avx512f"]);
        assert!(Isa::Avx2.missing_with(zen3).is_empty());
        let none = |_: &str| false;
        assert_eq!(Isa::Avx2.missing_with(none), vec!["avx2", "fma"]);
        assert!(Isa::Portable.missing_with(none).is_empty());
        let text = IsaError::Missing(Isa::Avx512, vec!["avx512f"]).to_string();
        assert!(
            text.contains("avx512") && text.contains("lacks avx512f"),
            "{text}"
        );
    }

    #[test]
    fn requests_resolve_flag_first_then_environment_then_the_best() {
        let zen3 = |f: &str| f != "avx512f";
        assert_eq!(resolve(None, None, zen3), Ok(Isa::Avx2));
        assert_eq!(resolve(None, Some(""), zen3), Ok(Isa::Avx2));
        assert_eq!(resolve(None, Some("portable"), zen3), Ok(Isa::Portable));
        let flag = resolve(Some(Isa::Portable), Some("nonsense"), zen3);
        assert_eq!(flag, Ok(Isa::Portable));
        assert_eq!(
            resolve(None, Some("avx512"), zen3),
            Err(IsaError::Missing(Isa::Avx512, vec!["avx512f"]))
        );
        assert_eq!(
            resolve(Some(Isa::Avx512), None, zen3),
            Err(IsaError::Missing(Isa::Avx512, vec!["avx512f"]))
        );
        assert_eq!(
            resolve(None, Some("avx"), zen3),
            Err(IsaError::Unknown("avx".into()))
        );
        assert_eq!(resolve(None, None, |_: &str| false), Ok(Isa::Portable));
    }

    #[test]
    fn the_detected_set_runs_here_and_portable_always_does() {
        assert!(detect().missing().is_empty());
        assert!(Isa::Portable.missing().is_empty());
        assert!(active().missing().is_empty());
    }
}
