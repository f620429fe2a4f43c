//! `tdsl run`: build, feed, run the `run` statements (or `--fetch`), print, and
//! write `--out` files and `--save` checkpoints (`--restore` starts from one).

use super::args::{Backend, RunArgs};
use super::timings::timings_line;
use super::watch::{Ticker, Watch};
use super::{print_stdout, Failure, SourceFile};
use crate::diag::{Diag, Span};
use crate::ir::{npy, Module, Tensor};
use crate::runtime::signature::{fetchable_names, is_group};
use crate::runtime::{self, checkpoint, run_schedule, Schedule, Session, StepDone};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Runs of at least this many steps show a progress bar on a terminal.
const PROGRESS_MIN_STEPS: u64 = 100;

/// One `run` to execute: its fetch names (with their spans in the file, if any).
struct RunJob {
    fetches: Vec<(String, Option<Span>)>,
    schedule: Schedule,
    /// `epochs E` (then `schedule.every` counts epochs), with the `run`'s span.
    epochs: Option<(u64, Option<Span>)>,
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let source = SourceFile::read(&args.file)?;
    let place = super::distributed::start(&args.file, &source.text)?;
    // Feeds that bind the build: `?` sizes and dataset data.
    let program = crate::syntax::parser::parse(&source.text).map_err(|d| source.failure(d))?;
    let max_bytes = args
        .max_memory
        .unwrap_or_else(crate::ir::limits::default_max_bytes);
    let (mut data, rest_feeds) = runtime::bind::bind_feeds(&program, &args.feeds, max_bytes)
        .map_err(|d| source.failure(d))?;
    data.rank = place.rank;
    let options = crate::Options {
        optimize: !args.no_opt,
        max_memory: args.max_memory,
        values: true,
        data,
        ranks: crate::kernels::collective::current().size(),
    };
    let compiled = source.compile_with(&options)?;
    let (module, build_times) = (compiled.module, compiled.times);
    let fail = |diags: Vec<Diag>| source.failure(diags);

    // Feeds: every error reported, one diagnostic each.
    let mut feeds = Vec::new();
    let mut errors = Vec::new();
    for (name, path) in &rest_feeds {
        let path = &super::distributed::feed_path(path, place);
        match runtime::data::check_direct_feed(&module, name)
            .and_then(|()| runtime::load_feed(&module, name, path))
        {
            Ok(tensor) => feeds.push((name.clone(), tensor)),
            Err(diag) => errors.push(diag),
        }
    }
    let jobs = jobs(&module, args).map_err(&fail)?;
    if !errors.is_empty() {
        return Err(fail(errors));
    }
    // Every rank restores (a checkpoint holds no rank-specific state).
    let restored = match &args.restore {
        Some(dir) => Some(checkpoint::read(dir, &module, max_bytes).map_err(&fail)?),
        None => None,
    };
    // Only rank 0 writes files.
    let (out, save) = match place.is_root() {
        true => (&args.out, &args.save),
        false => (&None, &None),
    };
    if let Some(dir) = save {
        checkpoint::check_target(dir).map_err(|m| Failure::plain(format!("--save: {m}")))?;
    }
    for warning in restored.iter().flat_map(|r| &r.warnings) {
        if place.is_root() {
            // A closed stderr loses the warning; it is not an error of the run.
            let _ = writeln!(std::io::stderr(), "warning: {warning}");
        }
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::plain(format!(
                "cannot create the folder '{}': {}",
                dir.display(),
                super::io_error_text(&e)
            ))
        })?;
    }

    let backend = match args.backend {
        Backend::Jit => crate::backend::Backend::Jit,
        Backend::Interp => crate::backend::Backend::Interp,
    };
    let options = crate::backend::jit::Options {
        check_bounds: args.check_bounds,
        threads: args
            .threads
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        ..crate::engines::jit_options_from_env()
    };
    // `--log` and `--plot` (rank 0 only), checked before the first step.
    let mut watch = match place.is_root() {
        true => Watch::new(args.log.as_deref(), args.plot.as_deref()).map_err(|d| fail(vec![d]))?,
        false => Watch::default(),
    };
    let engine = crate::engines::engine(backend, options);
    let mut session = Session::taking_defaults(module, engine);
    if args.timings {
        session.record_step_times();
    }
    if let Some(restored) = restored {
        restored.apply(&mut session).map_err(|d| fail(vec![d]))?;
    }
    if let (Some(every), Some(dir)) = (args.save_every, save) {
        session.save_every(every, dir.clone());
    }
    for (name, tensor) in feeds {
        session.feed(&name, tensor).map_err(|d| fail(vec![d]))?;
    }
    super::distributed::broadcast_variables(&mut session);
    if jobs.is_empty() {
        print_stdout(&fetchable_listing(session.module())).map_err(|d| fail(vec![d]))?;
    }
    // Check (and compile) every run before the first step: no long run ends in a
    // missing feed, and compiling is not part of any step's time.
    for job in &jobs {
        let names: Vec<&str> = job.fetches.iter().map(|(n, _)| n.as_str()).collect();
        session.prepare(&names).map_err(|d| fail(vec![d]))?;
    }
    for job in &jobs {
        watch.begin_run();
        let last = match job.epochs {
            Some(epochs) => run_epoch_job(&mut session, job, epochs, &mut watch),
            None => run_job(&mut session, job, &mut watch),
        };
        // The plot of the steps that ran, even when a step failed.
        let last = match (last, watch.finish()) {
            (Ok(last), Ok(())) => last,
            (Err(d), _) | (Ok(_), Err(d)) => return Err(fail(vec![d])),
        };
        if let Some(dir) = out {
            write_outputs(&session, job, &last, dir).map_err(|d| fail(vec![d]))?;
        }
    }
    if args.timings && place.is_root() {
        let line = timings_line(&build_times, session.compile_time(), session.step_times());
        // A closed stderr loses the line; it is not an error of the run.
        let _ = writeln!(std::io::stderr(), "{line}");
        if let Some(line) = super::distributed::communication_line(place, session.step_times()) {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
    if let Some(dir) = save {
        checkpoint::save(&session, dir)
            .map_err(|m| fail(vec![Diag::plain(format!("--save: {m}"))]))?;
    }
    Ok(())
}

/// The runs to execute: `--fetch` (one run) or the file's `run` statements, with
/// `--steps`/`--every` applied.
fn jobs(module: &Module, args: &RunArgs) -> Result<Vec<RunJob>, Vec<Diag>> {
    let mut jobs = Vec::new();
    if !args.fetch.is_empty() {
        jobs.push(RunJob {
            fetches: args.fetch.iter().map(|n| (n.clone(), None)).collect(),
            schedule: Schedule {
                steps: args.steps.unwrap_or(1),
                every: args.every,
            },
            epochs: args.epochs.map(|e| (e, None)),
        });
    } else {
        for stmt in &module.runs {
            jobs.push(RunJob {
                fetches: stmt
                    .fetches
                    .iter()
                    .map(|(n, s)| (n.clone(), Some(*s)))
                    .collect(),
                schedule: Schedule {
                    steps: args.steps.unwrap_or(stmt.steps).max(1),
                    every: args.every.or(stmt.every),
                },
                epochs: match (args.steps, args.epochs) {
                    (Some(_), _) => None,
                    (None, Some(e)) => Some((e, Some(stmt.span))),
                    (None, None) => stmt.epochs.map(|e| (e, Some(stmt.span))),
                },
            });
        }
    }
    let mut errors = Vec::new();
    for job in &jobs {
        for (name, span) in &job.fetches {
            if module.lookup(name).is_none() {
                let diag = runtime::plan::unknown_fetch(module, name);
                errors.push(match span {
                    Some(span) => Diag {
                        span: Some(*span),
                        labels: Vec::new(),
                        ..diag
                    },
                    None => diag,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(jobs)
    } else {
        Err(errors)
    }
}

/// Runs one job, printing its fetches; a progress bar on a terminal for long runs.
fn run_job(session: &mut Session, job: &RunJob, watch: &mut Watch) -> Result<Vec<Tensor>, Diag> {
    let names: Vec<&str> = job.fetches.iter().map(|(n, _)| n.as_str()).collect();
    let ticker = Ticker::new(None);
    with_progress(job.schedule.steps, (watch, ticker), |print, on_step| {
        run_schedule(session, &names, job.schedule, print, on_step)
    })
}

/// Runs an `epochs` job: E epochs of the dataset its fetches read.
fn run_epoch_job(
    session: &mut Session,
    job: &RunJob,
    (epochs, span): (u64, Option<Span>),
    watch: &mut Watch,
) -> Result<Vec<Tensor>, Diag> {
    let names: Vec<&str> = job.fetches.iter().map(|(n, _)| n.as_str()).collect();
    let per_epoch = runtime::epochs::epoch_length(session, &names, span)?;
    let ticker = Ticker::new(Some((epochs, per_epoch)));
    with_progress(
        epochs.saturating_mul(per_epoch),
        (watch, ticker),
        |print, on_step| {
            runtime::epochs::run_epochs(
                session,
                &names,
                (epochs, per_epoch),
                job.schedule.every,
                print,
                on_step,
            )
        },
    )
}

type Print<'a> = dyn FnMut(&str) -> Result<(), Diag> + 'a;
type OnStep<'a> = dyn FnMut(&StepDone<'_>) -> Result<(), Diag> + 'a;

/// Runs `job` with a line printer and a step callback that feeds `watch`: a
/// progress bar of `total` steps when stderr is a terminal, for long runs
/// (lines printed above it; its message from the ticker).
fn with_progress<T>(
    total: u64,
    (watch, mut ticker): (&mut Watch, Ticker),
    job: impl FnOnce(&mut Print<'_>, &mut OnStep<'_>) -> Result<T, Diag>,
) -> Result<T, Diag> {
    let bar = (total >= PROGRESS_MIN_STEPS && std::io::stderr().is_terminal())
        .then(|| progress_bar(total));
    let mut print = |line: &str| -> Result<(), Diag> {
        let text = format!("{line}\n");
        match &bar {
            Some(bar) => bar.suspend(|| print_stdout(&text)),
            None => print_stdout(&text),
        }
    };
    let mut on_step = |done: &StepDone<'_>| {
        if let Some(bar) = &bar {
            bar.set_position(done.step);
            if let Some(message) = ticker.message(done) {
                bar.set_message(message);
            }
        }
        watch.step(done)
    };
    let result = job(&mut print, &mut on_step);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    result
}

fn progress_bar(steps: u64) -> ProgressBar {
    let bar = ProgressBar::new(steps);
    if let Ok(style) =
        ProgressStyle::with_template("step {pos}/{len} {bar:12} {wide_msg} [{elapsed} < {eta}]")
    {
        bar.set_style(style);
    }
    bar
}

/// `--out DIR`: every fetched value (not groups) to `DIR/NAME.npy`.
fn write_outputs(
    session: &Session,
    job: &RunJob,
    values: &[Tensor],
    dir: &Path,
) -> Result<(), Diag> {
    let module = session.module();
    for ((name, _), value) in job.fetches.iter().zip(values) {
        if !is_group(module, name) {
            npy::write_npy_atomic(&dir.join(file_name(name)), value)
                .map_err(|m| Diag::plain(format!("--out: {m}")))?;
        }
    }
    Ok(())
}

/// `NAME.npy`, with path separators in generated names replaced.
fn file_name(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    PathBuf::from(format!("{safe}.npy"))
}

/// For a program with nothing to run: its fetchable names and their types.
fn fetchable_listing(module: &Module) -> String {
    format!(
        "no `run` statement and no --fetch; fetchable names:\n{}",
        fetchable_names(module)
    )
}
