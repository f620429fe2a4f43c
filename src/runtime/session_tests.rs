//! Session tests on small compiled modules.
//!
//! `checks` fail before a step is computed; `needs_interp` compute steps.

use super::*;
use crate::diag::Span;
use crate::ir::{DType, Module, Tensor, TensorType};
use ndarray::{ArrayD, IxDyn};

fn interp() -> Box<dyn crate::backend::Engine> {
    Box::new(crate::backend::interp::Interpreter)
}

fn jit() -> Box<dyn crate::backend::Engine> {
    Box::new(crate::backend::jit::Compiler::default())
}

fn vec_f32(values: &[f32]) -> Tensor {
    Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.to_vec()).unwrap())
}

fn module() -> Module {
    let source = "
        placeholder x: f32[2];
        placeholder s: f32[2] = [10, 20];
        variable w: f32[2] = [1, 2];
        let y = w + x;
        let t = w + s;
        let step = assign(w, w + s);
        let again = assign(w, w * s);
        let train = group(step);
    ";
    crate::compile(source, std::path::Path::new(".")).unwrap()
}

/// The span of placeholder `x`'s declaration.
fn x_span(session: &Session) -> Option<Span> {
    session.module().placeholder("x").map(|p| p.span)
}

mod checks {
    use super::*;

    #[test]
    fn variables_start_at_their_initial_values() {
        let session = Session::new(module(), interp());
        let vars: Vec<(&str, &Tensor)> = session.variables().collect();
        assert_eq!(vars, vec![("w", &vec_f32(&[1.0, 2.0]))]);
        assert_eq!(session.module().variables.len(), 1);
    }

    #[test]
    fn missing_feed_points_at_the_declaration() {
        let mut session = Session::new(module(), interp());
        let err = session.run(&["y"]).unwrap_err();
        assert_eq!(err.message, "placeholder `x` needs a feed");
        assert_eq!(err.span, x_span(&session));
        let err = session.check(&["t", "y"]).unwrap_err();
        assert_eq!(err.message, "placeholder `x` needs a feed");
        assert!(session.check(&["t"]).is_ok(), "`s` has a default");
        session.feed("x", vec_f32(&[0.0, 0.0])).unwrap();
        assert!(session.check(&["t", "y"]).is_ok());
    }

    #[test]
    fn double_assign_is_rejected_before_running() {
        let mut session = Session::new(module(), interp());
        let err = session.run(&["step", "again"]).unwrap_err();
        assert_eq!(err.message, "`w` is assigned twice in one step");
        // Through a group too.
        let err = session.run(&["train", "again"]).unwrap_err();
        assert_eq!(err.message, "`w` is assigned twice in one step");
    }

    #[test]
    fn unknown_fetch_is_an_error() {
        let mut session = Session::new(module(), interp());
        let err = session.run(&["zzz"]).unwrap_err();
        assert_eq!(err.message, "unknown fetch `zzz`");
    }

    #[test]
    fn feeds_are_checked() {
        let mut session = Session::new(module(), interp());
        let err = session
            .feed(
                "x",
                Tensor::full(&TensorType::new(DType::F64, vec![2]), 0.0),
            )
            .unwrap_err();
        assert_eq!(err.message, "feed `x`: expected f32[2], got f64[2]");
        assert_eq!(err.span, x_span(&session));
        session.feed("w", vec_f32(&[5.0, 6.0])).unwrap();
        assert_eq!(session.variable("w"), Some(&vec_f32(&[5.0, 6.0])));
    }

    #[test]
    fn plans_are_cached_and_mark_groups() {
        let mut session = Session::new(module(), interp());
        let a = session.plan(&["train", "t"]).unwrap();
        let b = session.plan(&["train", "t"]).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        assert_eq!(a.fetch_is_group, vec![true, false]);
        assert_eq!(a.placeholders, vec!["s".to_string()]);
    }
}

mod needs_interp {
    use super::*;

    #[test]
    fn fed_placeholder_and_default() {
        let mut session = Session::new(module(), interp());
        session.feed("x", vec_f32(&[0.5, 0.25])).unwrap();
        let out = session.run(&["y", "t"]).unwrap();
        assert_eq!(out, vec![vec_f32(&[1.5, 2.25]), vec_f32(&[11.0, 22.0])]);
    }

    #[test]
    fn assigns_apply_at_the_end_of_the_step() {
        let mut session = Session::new(module(), interp());
        // `t` reads `w` at the start of the step, while `step` updates it.
        let out = session.run(&["t", "step"]).unwrap();
        assert_eq!(out[0], vec_f32(&[11.0, 22.0]));
        assert_eq!(out[1], vec_f32(&[11.0, 22.0]));
        assert_eq!(session.variable("w"), Some(&vec_f32(&[11.0, 22.0])));
        // Variables persist across steps.
        session.run(&["train"]).unwrap();
        assert_eq!(session.variable("w"), Some(&vec_f32(&[21.0, 42.0])));
    }

    #[test]
    fn schedule_prints_with_step_prefixes() {
        let mut session = Session::new(module(), interp());
        let mut lines = Vec::new();
        let mut steps = 0;
        run_schedule(
            &mut session,
            &["train", "w"],
            Schedule {
                steps: 3,
                every: Some(2),
            },
            &mut |line| {
                lines.push(line.to_string());
                Ok(())
            },
            &mut |done| {
                steps += 1;
                assert_eq!((done.step, done.total, done.epoch), (steps, steps, None));
                assert_eq!(done.printed, steps != 1);
                // `train` is a group: no scalar; `w` is not a scalar.
                assert_eq!(done.scalars().count(), 0);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(steps, 3);
        assert_eq!(
            lines,
            vec![
                "[step 2] w: f32[2] = [11, 22]".to_string(),
                "[step 3] w: f32[2] = [21, 42]".to_string(),
            ]
        );
    }

    #[test]
    fn taking_defaults_moves_them_and_computes_the_same() {
        let mut copied = Session::new(module(), interp());
        let mut taken = Session::taking_defaults(module(), interp());
        assert!(taken
            .module()
            .placeholders
            .iter()
            .all(|p| p.default.is_none()));
        assert!(copied.module().placeholder("s").unwrap().default.is_some());
        // The variables' initial values moved too: the session has them, the
        // module keeps an empty tensor.
        assert_eq!(taken.variable("w"), copied.variable("w"));
        assert_eq!(taken.module().variables[0].init.len(), 0);
        assert_eq!(taken.run(&["t"]).unwrap(), copied.run(&["t"]).unwrap());
        assert_eq!(taken.run(&["t"]).unwrap()[0], vec_f32(&[11.0, 22.0]));
    }

    #[test]
    fn step_times_are_recorded_only_when_asked() {
        let mut session = Session::new(module(), interp());
        session.run(&["t"]).unwrap();
        assert!(session.step_times().is_empty());
        session.record_step_times();
        session.run(&["t"]).unwrap();
        session.run(&["train"]).unwrap();
        assert_eq!(session.step_times().len(), 2);
        assert_eq!(session.backend(), "interp");
    }

    fn f32_ptr(t: &Tensor) -> *const f32 {
        match t {
            Tensor::F32(a) => a.as_ptr(),
            other => panic!("expected f32, got {}", other.ty()),
        }
    }

    #[test]
    fn recycled_fetches_are_reused_by_the_jit() {
        let mut session = Session::new(module(), jit());
        let first = session.run(&["t"]).unwrap();
        assert_eq!(first[0], vec_f32(&[11.0, 22.0]));
        let ptr = f32_ptr(&first[0]);
        session.recycle(&["t"], first);
        let second = session.run(&["t"]).unwrap();
        assert_eq!(second[0], vec_f32(&[11.0, 22.0]));
        // `t` is a native kernel's output: it was written into the recycled buffer.
        assert_eq!(f32_ptr(&second[0]), ptr);
        // A value of another fetch list's executable, or of a type without
        // native outputs, is simply dropped.
        session.recycle(&["y", "t"], vec![vec_f32(&[1.0, 2.0])]);
        session.recycle(&["t"], vec![Tensor::scalar(DType::I32, 3.0)]);
        assert_eq!(session.run(&["t"]).unwrap()[0], vec_f32(&[11.0, 22.0]));
    }

    #[test]
    fn replaced_variables_recycled_keep_every_step_right() {
        // `train` updates `w` with `w + s`; the old `w` goes back to the pool and
        // the next step's kernel writes the new `w` into it.
        let mut jit = Session::new(module(), jit());
        let mut interp = Session::new(module(), interp());
        for step in 1..=4 {
            let a = jit.run(&["train", "w"]).unwrap();
            let b = interp.run(&["train", "w"]).unwrap();
            assert_eq!(a, b, "step {step}");
            jit.recycle(&["train", "w"], a);
            assert_eq!(jit.variable("w"), interp.variable("w"), "step {step}");
        }
        let expected = 1.0 + 4.0 * 10.0;
        assert_eq!(
            jit.variable("w"),
            Some(&vec_f32(&[expected, 2.0 * expected]))
        );
    }

    #[test]
    fn in_place_training_keeps_the_pool_and_the_variables_buffers() {
        // A two-layer MLP trained with momentum: every update is written into
        // its variable (the buffer address stays), and after a warm-up step
        // the pool neither grows nor shrinks while fetches are recycled.
        let source = "
            placeholder x: f32[16, 24] = randn(seed=1);
            placeholder y: f32[16, 8] = randn(seed=2);
            variable w1: f32[24, 32] = xavier(seed=3);
            variable w2: f32[32, 8] = xavier(seed=4);
            let h = tanh(x @ w1);
            let loss = mean((h @ w2 - y) * (h @ w2 - y));
            let train = minimize(loss, momentum(0.05, beta=0.9));
        ";
        let module = crate::compile(source, std::path::Path::new(".")).unwrap();
        let mut jit = Session::new(module.clone(), jit());
        let mut interp = Session::new(module, interp());
        let fetches = ["train", "loss"];
        let address = |s: &Session| -> Vec<usize> {
            ["w1", "w2", "w1.momentum", "w2.momentum"]
                .iter()
                .map(|n| match s.variable(n) {
                    Some(Tensor::F32(a)) => a.as_ptr() as usize,
                    other => panic!("{n}: {other:?}"),
                })
                .collect()
        };
        let start = address(&jit);
        let mut pooled = None;
        let close = |a: &Tensor, b: &Tensor| {
            let (a, b) = (a.to_f64_vec(), b.to_f64_vec());
            let scale = a.iter().fold(1e-30f64, |m, v| m.max(v.abs()));
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-5 * scale)
        };
        for step in 1..=6 {
            let a = jit.run(&fetches).unwrap();
            let b = interp.run(&fetches).unwrap();
            assert!(close(&a[1], &b[1]), "step {step}: loss");
            jit.recycle(&fetches, a);
            for (name, value) in interp.variables() {
                let got = jit.variable(name).unwrap();
                assert!(close(value, got), "step {step}: {name}");
            }
            // The same state for the next step (GEMMs and tanh round differently).
            let state: Vec<(String, Tensor)> = interp
                .variables()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect();
            for (name, value) in state {
                // Feeding replaces the buffer: write the values into it instead.
                match (jit.variable_mut(&name), value) {
                    (Some(Tensor::F32(dst)), Tensor::F32(src)) => dst.assign(&src),
                    _ => panic!("{name}"),
                }
            }
            assert_eq!(address(&jit), start, "step {step}");
            let now = jit.pooled_buffers(&fetches);
            assert!(now.is_some_and(|n| n > 0));
            if step > 1 {
                assert_eq!(now, pooled, "step {step}");
            }
            pooled = now;
        }
    }
}
