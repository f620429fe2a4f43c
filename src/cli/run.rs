//! `tdsl run`: build, feed, run the `run` statements (or `--fetch`), print, and
//! write `--out`/`--save` files.

use super::args::{Backend, RunArgs};
use super::timings::timings_line;
use super::{print_stdout, Failure, SourceFile};
use crate::diag::{Diag, Span};
use crate::ir::{npy, Module, Tensor};
use crate::runtime::signature::{fetchable_names, is_group};
use crate::runtime::{self, run_schedule, Schedule, Session};
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
    // Only rank 0 writes files.
    let (out, save) = match place.is_root() {
        true => (&args.out, &args.save),
        false => (&None, &None),
    };
    for dir in [out, save].into_iter().flatten() {
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
    if let Some(n) = args.threads {
        crate::backend::threads::set_threads(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let options = crate::backend::jit::Options {
        check_bounds: args.check_bounds,
        ..crate::engines::jit_options_from_env()
    };
    let engine = crate::engines::engine(backend, options);
    let mut session = Session::taking_defaults(module, engine);
    if args.timings {
        session.record_step_times();
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
        let last = match job.epochs {
            Some(epochs) => run_epoch_job(&mut session, job, epochs),
            None => run_job(&mut session, job),
        }
        .map_err(|d| fail(vec![d]))?;
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
        for (name, value) in session.variables() {
            npy::write_npy_atomic(&dir.join(file_name(name)), value)
                .map_err(|m| fail(vec![Diag::plain(format!("--save: {m}"))]))?;
        }
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
fn run_job(session: &mut Session, job: &RunJob) -> Result<Vec<Tensor>, Diag> {
    let names: Vec<&str> = job.fetches.iter().map(|(n, _)| n.as_str()).collect();
    with_progress(job.schedule.steps, |print, on_step| {
        run_schedule(session, &names, job.schedule, print, on_step)
    })
}

/// Runs an `epochs` job: E epochs of the dataset its fetches read.
fn run_epoch_job(
    session: &mut Session,
    job: &RunJob,
    (epochs, span): (u64, Option<Span>),
) -> Result<Vec<Tensor>, Diag> {
    let names: Vec<&str> = job.fetches.iter().map(|(n, _)| n.as_str()).collect();
    let per_epoch = runtime::epochs::epoch_length(session, &names, span)?;
    with_progress(epochs.saturating_mul(per_epoch), |print, on_step| {
        runtime::epochs::run_epochs(
            session,
            &names,
            (epochs, per_epoch),
            job.schedule.every,
            print,
            on_step,
        )
    })
}

type Print<'a> = dyn FnMut(&str) -> Result<(), Diag> + 'a;
type OnStep<'a> = dyn FnMut(u64) + 'a;

/// Runs `job` with a line printer and a step callback: a progress bar of
/// `total` steps on a terminal for long runs (lines printed above it).
fn with_progress<T>(
    total: u64,
    job: impl FnOnce(&mut Print<'_>, &mut OnStep<'_>) -> Result<T, Diag>,
) -> Result<T, Diag> {
    let bar = (total >= PROGRESS_MIN_STEPS && std::io::stdout().is_terminal())
        .then(|| progress_bar(total));
    let mut print = |line: &str| -> Result<(), Diag> {
        let text = format!("{line}\n");
        match &bar {
            Some(bar) => bar.suspend(|| print_stdout(&text)),
            None => print_stdout(&text),
        }
    };
    let mut on_step = |step: u64| {
        if let Some(bar) = &bar {
            bar.set_position(step);
        }
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
        ProgressStyle::with_template("{bar:40} step {pos}/{len} [{elapsed_precise} < {eta}]")
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
