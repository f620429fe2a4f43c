//! The Cranelift JIT backend: native kernels for the graph IR, checked against
//! the interpreter (the oracle).
//!
//! [`compile`] plans a fetch set of a graph once ([`plan`]): chains of
//! elementwise ops become fused kernels ([`fused`], one Cranelift function and
//! one loop nest per group, `f32x4` where possible), `MatMul` becomes a loop
//! over the batch calling the `gemm` crate ([`matmul`]), `cond` and `fold` run
//! their regions compiled the same way ([`control`]), and every other op runs
//! the shared evaluator (`kernels::eval`) for that node. [`Executable::run`]
//! runs a step with the backends' shared `StepInputs`/`StepResult`. docs/jit.md
//! has the design and the next steps.
//!
//! Safety: generated code is entered in exactly one place, `Kernel::call`
//! (`codegen.rs`); every load and store in it is in bounds by construction from
//! static shapes (the proof is in `nest.rs`), and `Options::check_bounds` adds
//! run-time checks that turn a violation into an internal-error `Diag`.

pub(crate) mod adam;
pub(crate) mod arena;
pub(crate) mod blocks;
mod buckets;
mod calls;
mod codegen;
mod collective;
mod colout;
mod columns;
mod combine;
mod control;
mod direct;
mod dropout;
mod engine;
mod exec;
mod exp;
mod fused;
pub(crate) mod gemm;
pub(crate) mod helpers;
mod inline;
mod inplace;
mod kinds;
mod matmul;
mod memlog;
mod nest;
mod ops;
mod outputs;
mod parallel;
pub(crate) mod plan;
mod pool;
mod recycle;
mod reduce;
mod scan;
pub(crate) mod siblings;
mod switch;
mod tensors;
mod transb;
mod uses;
pub(crate) mod vecmath;
mod views;

#[cfg(test)]
pub(crate) mod tests;

pub use engine::Compiler;
pub use exec::Executable;

use crate::backend::{StepInputs, StepResult};
use crate::diag::Diag;
use crate::ir::{Graph, NodeId};
use codegen::{internal, Jit};
use kinds::{FusedKernel, MatMulKernel, ReduceKernel};

/// How to compile, and what an executable reports while it runs. The
/// switches after `check_bounds` are for measuring and inspecting; the front
/// ends set them from environment variables (`crate::engines`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Insert a run-time bound check before every load and store of generated
    /// code (a failure is an internal error). For tests; costs speed.
    pub check_bounds: bool,
    /// Print every GEMM call's shape, layouts, time and rate on stderr
    /// (`TDSL_GEMM_LOG`).
    pub gemm_log: bool,
    /// Print, per top-level step, the memory the plan holds on stderr
    /// (`TDSL_MEM_LOG`; `memlog.rs`).
    pub mem_log: bool,
    /// Print each kernel's IR and machine code on stderr as it is compiled
    /// (`TDSL_JIT_DISASM`).
    pub disasm: bool,
    /// Give values with a static lifetime slots in one arena (`arena.rs`; the
    /// default). Off (`TDSL_ARENA=0`), every value is pooled: for comparisons.
    pub arena: bool,
    /// Threads for kernel calls and GEMMs (`--threads`); 0: every core the
    /// process may use. Each step runs with this count on its own thread
    /// ([`crate::backend::threads::with_threads`]), so executables with
    /// different counts may run in one process.
    pub threads: usize,
}

impl Options {
    /// The default with `check_bounds` on (tests).
    pub fn checked() -> Options {
        Options {
            check_bounds: true,
            ..Options::default()
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            check_bounds: false,
            gemm_log: false,
            mem_log: false,
            disasm: false,
            arena: true,
            threads: 0,
        }
    }
}

/// Compiles the part of `graph` that `fetches` need into an [`Executable`].
pub fn compile(graph: &Graph, fetches: &[NodeId], options: Options) -> Result<Executable, Diag> {
    compile_for(graph, fetches, options, crate::kernels::isa::active())
}

/// [`compile`] for the instruction set `isa` (which must run on this CPU).
pub(crate) fn compile_for(
    graph: &Graph,
    fetches: &[NodeId],
    options: Options,
    isa: crate::kernels::isa::Isa,
) -> Result<Executable, Diag> {
    let mut jit = Jit::for_isa(isa)?;
    jit.disasm = options.disasm;
    jit.gemm_log = options.gemm_log;
    let mut exe = compile_graph(graph, fetches, options, &mut jit, false)?;
    exe._jit = Some(jit);
    Ok(exe)
}

/// Compiles `graph` for `fetches` into `jit`: the top level, or a region
/// (`in_region`, whose fetch is its result), its own regions compiled
/// recursively into the same module (one `JITModule` per top-level
/// executable, which owns the code of every region).
fn compile_graph(
    graph: &Graph,
    fetches: &[NodeId],
    options: Options,
    jit: &mut Jit,
    in_region: bool,
) -> Result<Executable, Diag> {
    if let Some(bad) = fetches.iter().find(|f| f.index() >= graph.len()) {
        return Err(internal(format!(
            "fetch {bad} is not in the graph ({} nodes)",
            graph.len()
        )));
    }
    for (index, node) in graph.nodes.iter().enumerate() {
        if let Some(input) = node.inputs.iter().find(|i| i.index() >= index) {
            return Err(internal(format!(
                "input {input} does not precede node %{index}"
            )));
        }
    }
    let planned = plan::plan(graph, fetches, in_region)?;
    let regions = control::compile_regions(graph, &planned.regions, options, jit)?;
    let mut ids = Vec::with_capacity(planned.groups.len() + planned.matmuls.len());
    let mut splits = Vec::with_capacity(planned.groups.len());
    for group in &planned.groups {
        let (id, split) = fused::compile(jit, graph, group, options.check_bounds)?;
        ids.push(id);
        splits.push(split);
    }
    for mm in &planned.matmuls {
        ids.push(matmul::compile(jit, graph, mm, options.check_bounds)?);
    }
    for r in &planned.reductions {
        ids.push(reduce::compile(jit, graph, r, options.check_bounds)?);
    }
    // The kernels come back in the order of `ids`: groups, matmuls, reductions.
    let mut kernels = jit.finish(&ids)?.into_iter();
    let mut next = || {
        kernels
            .next()
            .ok_or_else(|| internal("a kernel is missing"))
    };
    let fused = (planned.groups.into_iter().zip(splits))
        .map(|(group, split)| {
            let kernel = next()?;
            Ok(FusedKernel {
                group,
                kernel,
                split,
            })
        })
        .collect::<Result<_, Diag>>()?;
    let matmuls = (planned.matmuls.into_iter())
        .map(|plan| {
            Ok(MatMulKernel {
                plan,
                kernel: next()?,
            })
        })
        .collect::<Result<_, Diag>>()?;
    let reductions = (planned.reductions.into_iter())
        .map(|reduction| {
            let kernel = next()?;
            Ok(ReduceKernel { reduction, kernel })
        })
        .collect::<Result<_, Diag>>()?;
    let mut fetched = vec![false; graph.len()];
    for f in fetches {
        fetched[f.index()] = true;
    }
    let mut exe = Executable {
        graph: graph.clone(),
        fetches: fetches.to_vec(),
        schedule: Default::default(),
        steps: planned.steps,
        fused,
        reductions,
        pool: Default::default(),
        matmuls,
        regions,
        in_place: Default::default(),
        in_region,
        options,
        buckets: Default::default(),
        _jit: None,
        uses: Vec::new(),
        fetched,
    };
    exe.uses = exe.count_uses();
    exe.in_place = exe.plan_in_place();
    exe.schedule = crate::backend::schedule::Schedule::new(&exe, fetches)?;
    exe.plan_buckets();
    Ok(exe)
}

/// Compiles and runs one step with the same contract as the interpreter's `run_step`
/// API (callers that run many steps should [`compile`] once instead).
pub fn run_step(
    graph: &Graph,
    fetches: &[NodeId],
    inputs: &StepInputs,
) -> Result<StepResult, Diag> {
    compile(graph, fetches, Options::default())?.run(inputs)
}
