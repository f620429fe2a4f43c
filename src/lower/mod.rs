//! Building the graph IR from the AST: name resolution, `fn` inlining, lambdas,
//! weak literals, dtype and shape inference. Top-level names are built on demand
//! (items may come in any order) and every independent error is reported; the
//! files are listed in `docs/design.md`, "lower/".

mod args;
mod calls;
pub use calls::BUILTINS;
mod calls_net;
mod calls_pool;
mod calls_random;
mod control;
mod data;
pub use data::DataOptions;
mod expr;
mod fed;
mod grad;
mod items;
mod literals;
mod nodes;
mod optimizer;
mod scope;
mod slicing;
mod split;
mod state;
#[cfg(test)]
mod tests;
mod values;

use crate::diag::{Diag, Span};
use crate::ir::graph::{Graph, NodeId};
use crate::ir::module::Module;
use crate::syntax::ast::Program;
use control::GraphCtx;
use literals::Weak;
use scope::{Frame, GlobalState};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// The most nodes a program may create (all regions together): `fn` inlining can
/// grow a graph exponentially, and a build must never hang.
const MAX_NODES: usize = 2_000_000;
/// How deep expressions, `fn` inlining and on-demand globals may nest together.
const MAX_DEPTH: usize = 1500;
/// Stack for the builder thread: deep (but limited) nesting must not overflow.
/// `MAX_DEPTH` levels take about 8 MiB in a debug build; this leaves a wide margin.
const STACK_BYTES: usize = 128 << 20;

/// How a build treats values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// The most bytes any one tensor may take (`ir::limits`).
    pub max_bytes: u64,
    /// Compute the values of constructors (`randn`, `load`, ...). Off, only
    /// their types are checked: see `values.rs` for what stands in for them.
    pub values: bool,
    /// Sizes bound to `?` placeholders and dataset arrays handed in (`data.rs`).
    pub data: DataOptions,
    /// The processes of a data-parallel run; above 1, `minimize` averages
    /// each gradient over them with `allreduce` before the update.
    pub ranks: usize,
}

impl Default for BuildOptions {
    fn default() -> BuildOptions {
        BuildOptions {
            max_bytes: crate::ir::limits::default_max_bytes(),
            values: true,
            data: DataOptions::default(),
            ranks: 1,
        }
    }
}

/// Builds the module; `base_dir` is where `load("...")` paths are relative to.
pub fn build(program: &Program, base_dir: &Path) -> Result<Module, Vec<Diag>> {
    build_timed(program, base_dir, &BuildOptions::default()).map(|(module, _)| module)
}

/// [`build`] with explicit options, also returning the time spent in autodiff
/// and initial values.
pub fn build_timed(
    program: &Program,
    base_dir: &Path,
    options: &BuildOptions,
) -> Result<(Module, crate::timing::Inner), Vec<Diag>> {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("tdsl-build".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(s, || build_here(program, base_dir, options));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(vec![Diag::internal(
                    "the IR builder",
                    "the builder panicked",
                    None,
                )])
            }),
            Err(_) => build_here(program, base_dir, options),
        }
    })
}

/// Builds on the current thread.
fn build_here(
    program: &Program,
    base_dir: &Path,
    options: &BuildOptions,
) -> Result<(Module, crate::timing::Inner), Vec<Diag>> {
    let mut builder = Builder::new(program, base_dir, options.clone());
    builder.build_items();
    if builder.diags.is_empty() {
        // Autodiff adds nodes outside `add_typed`: check those too.
        let graph = &builder.ctxs[0].graph;
        if let Err((message, span)) = crate::ir::limits::check_graph(graph, options.max_bytes) {
            builder.diags.push(Diag::error(message, span));
        }
    }
    if builder.diags.is_empty() {
        let times = builder.times;
        Ok((builder.finish(), times))
    } else {
        // In source order, whatever order the items were built in.
        builder
            .diags
            .sort_by_key(|d| d.span.map(|s| (s.start, s.end)));
        Err(builder.diags)
    }
}

/// The value of an expression while building.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// Node `id` in the graph at nesting `level` (0 = top level, then regions).
    Node(usize, NodeId),
    /// A literal not yet given a dtype (see `literals.rs`).
    Weak(Rc<Weak>),
}

/// The error was reported already (in `Builder::diags`); stop building this item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failed;

pub(crate) type BResult<T> = Result<T, Failed>;

pub(crate) struct Builder<'a> {
    program: &'a Program,
    base_dir: &'a Path,
    options: BuildOptions,
    /// Top-level name -> index of its (first) item.
    globals: HashMap<String, usize>,
    /// Per item: whether its value is built yet.
    states: Vec<GlobalState>,
    /// The graph being built and the regions open inside it; `ctxs[0]` is the top level.
    ctxs: Vec<GraphCtx>,
    /// Local scopes: one frame per `fn` body being inlined (and one per item).
    frames: Vec<Frame>,
    /// The `fn`s being inlined, outermost first, to reject recursion.
    inline_stack: Vec<String>,
    /// The globals being built, outermost first, for cycle messages.
    building: Vec<String>,
    /// When set, names are rejected: an initialiser must be constant.
    const_only: bool,
    depth: usize,
    node_count: usize,
    /// Set after a "nests too deeply" error: the remaining items are skipped
    /// (they would mostly repeat it).
    aborted: bool,
    diags: Vec<Diag>,
    module: Module,
    /// Unseeded random calls built so far, by source offset (`calls_random.rs`).
    random_sites: HashMap<u32, u64>,
    /// One backward pass per differentiated node (`grad.rs`).
    adjoints: HashMap<NodeId, crate::autodiff::Adjoints>,
    /// Time spent in autodiff and initial values (`--timings`).
    times: crate::timing::Inner,
}

impl<'a> Builder<'a> {
    fn new(program: &'a Program, base_dir: &'a Path, options: BuildOptions) -> Builder<'a> {
        Builder {
            program,
            base_dir,
            options,
            globals: HashMap::new(),
            states: Vec::new(),
            ctxs: vec![GraphCtx::new(Graph::new(), 0, Vec::new())],
            frames: vec![Frame::default()],
            inline_stack: Vec::new(),
            building: Vec::new(),
            const_only: false,
            depth: 0,
            node_count: 0,
            aborted: false,
            diags: Vec::new(),
            module: Module::default(),
            adjoints: HashMap::new(),
            times: Default::default(),
            random_sites: HashMap::new(),
        }
    }

    /// Reports an error and gives the marker to return.
    pub(crate) fn error(&mut self, message: impl Into<String>, span: Span) -> Failed {
        self.diags.push(Diag::error(message, span));
        Failed
    }

    pub(crate) fn report(&mut self, diag: Diag) -> Failed {
        self.diags.push(diag);
        Failed
    }

    /// The nesting level of the graph being built (0 = top level).
    pub(crate) fn level(&self) -> usize {
        self.ctxs.len() - 1
    }

    pub(crate) fn graph(&self) -> &Graph {
        &self.ctxs[self.level()].graph
    }

    fn finish(mut self) -> Module {
        let ctx = self.ctxs.swap_remove(0);
        self.module.graph = ctx.graph;
        self.module
    }

    /// Counts one level of nesting; an error beyond `MAX_DEPTH`.
    pub(crate) fn enter(&mut self, span: Span) -> BResult<()> {
        if self.depth >= MAX_DEPTH {
            self.aborted = true;
            return Err(self.error(
                format!("the program nests too deeply (more than {MAX_DEPTH} levels of expressions, calls and names)"),
                span,
            ));
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}
