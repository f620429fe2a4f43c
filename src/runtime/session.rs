//! `Session`: runs steps of a built module, keeping variables between them.

use super::data::DataFeeder;
use super::feeds::{check_feed, FeedTarget};
use super::plan::Plan;
use super::step_inputs;
use crate::backend::{Engine, Executable};
use crate::diag::Diag;
use crate::ir::{DType, Module, Tensor, TensorType};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running program, as in TensorFlow 1.x: the built graph plus the state that
/// persists across steps.
///
/// - Variables are initialised once, from their declared initial values, when the
///   session is created; [`Session::feed`] of a variable replaces its value.
/// - A placeholder reads its latest [`Session::feed`], else its declared default.
///   Feeds persist: they hold for every later step until fed again.
/// - [`Session::run`] computes one step: every read of a variable sees its value
///   from the start of the step, and all the step's assigns take effect together
///   at its end.
///
/// Steps run on the [`Engine`] the session is made with, which compiles each
/// fetch list once.
///
/// ```no_run
/// # fn demo(module: tdsl::ir::Module) -> Result<(), tdsl::diag::Diag> {
/// let engine = tdsl::engines::engine(Default::default(), Default::default());
/// let mut session = tdsl::runtime::Session::new(module, engine);
/// let values = session.run(&["loss"])?;
/// println!("{}", tdsl::runtime::format_fetch("loss", &values[0]));
/// # Ok(()) }
/// ```
pub struct Session {
    module: Module,
    /// Current value of every variable.
    variables: HashMap<String, Tensor>,
    /// The value each placeholder reads: its feed, else its default.
    placeholders: HashMap<String, Tensor>,
    /// Checked plans, by fetch list.
    plans: HashMap<Vec<String>, Arc<Plan>>,
    /// The backend that compiles fetch lists.
    engine: Box<dyn Engine>,
    /// Executables, by fetch list (compiled on the first step that needs one).
    executables: HashMap<Vec<String>, Box<dyn Executable>>,
    /// Total time spent compiling executables.
    compile_time: Duration,
    /// The time of every step since [`Session::record_step_times`] (`None`: not recording).
    step_times: Option<Vec<Duration>>,
    /// The index of the next step (`step()`): steps that succeeded so far.
    step: i32,
    /// The datasets and where each one is (`data.rs`).
    data: DataFeeder,
    /// `--save-every N --save DIR`: a checkpoint after every N-th step.
    save_every: Option<(u64, std::path::PathBuf)>,
    /// The fetch list of the last step, checked and compiled, with its plan:
    /// a training loop's next step skips the checks (placeholders are never
    /// unbound) and builds no key.
    ready: Option<(Vec<String>, Arc<Plan>)>,
}

impl Session {
    /// Starts a session whose steps run on `engine`: every variable takes its
    /// initial value.
    pub fn new(module: Module, engine: Box<dyn Engine>) -> Session {
        let variables = module
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.init.clone()))
            .collect();
        let placeholders = module
            .placeholders
            .iter()
            .filter_map(|p| p.default.clone().map(|d| (p.name.clone(), d)))
            .collect();
        Session {
            data: DataFeeder::new(&module.data),
            module,
            variables,
            placeholders,
            plans: HashMap::new(),
            engine,
            executables: HashMap::new(),
            compile_time: Duration::ZERO,
            step_times: None,
            step: 0,
            save_every: None,
            ready: None,
        }
    }

    /// [`Session::new`] for a front end that runs a module once (`tdsl
    /// run`): the placeholders' defaults move into the session instead of being
    /// copied, so a large default input is held once, not twice; so do the
    /// variables' initial values (the MLP's 16.8 MB of weights). The session's
    /// [`Session::module`] then has no placeholder defaults, and its variables'
    /// `init` are empty `f32[0]` tensors.
    pub fn taking_defaults(mut module: Module, engine: Box<dyn Engine>) -> Session {
        let defaults: Vec<(String, Tensor)> = module
            .placeholders
            .iter_mut()
            .filter_map(|p| p.default.take().map(|d| (p.name.clone(), d)))
            .collect();
        let empty = TensorType::new(DType::F32, vec![0]);
        let inits: Vec<(String, Tensor)> = module
            .variables
            .iter_mut()
            .map(|v| {
                (
                    v.name.clone(),
                    std::mem::replace(&mut v.init, Tensor::full(&empty, 0.0)),
                )
            })
            .collect();
        let mut session = Session::new(module, engine);
        session.placeholders.extend(defaults);
        session.variables.extend(inits);
        session
    }

    /// Records the time of every following step (compiling excluded).
    pub fn record_step_times(&mut self) {
        self.step_times.get_or_insert_with(Vec::new);
    }

    /// The recorded step times, in order (empty unless recording).
    pub fn step_times(&self) -> &[Duration] {
        self.step_times.as_deref().unwrap_or(&[])
    }

    /// Total time spent compiling executables.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// The name of the backend steps run on (`interp`, `jit`).
    pub fn backend(&self) -> &'static str {
        self.engine.name()
    }

    /// The module this session runs.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Feeds a placeholder (for every following step) or replaces a variable's
    /// value. The dtype and shape must match the declaration exactly; the error
    /// names both types and points at the declaration.
    pub fn feed(&mut self, name: &str, tensor: Tensor) -> Result<(), Diag> {
        super::data::check_direct_feed(&self.module, name)?;
        match check_feed(&self.module, name, &tensor)? {
            FeedTarget::Placeholder => self.placeholders.insert(name.to_string(), tensor),
            FeedTarget::Variable => self.variables.insert(name.to_string(), tensor),
        };
        Ok(())
    }

    /// The index the next step's `step()` reads: how many steps have
    /// succeeded (a checkpoint saves it).
    pub fn step(&self) -> i32 {
        self.step
    }

    /// Sets the index of the next step (a checkpoint restores it); steps
    /// count from 0, so a negative index is an error.
    pub fn set_step(&mut self, step: i32) -> Result<(), Diag> {
        if step < 0 {
            return Err(Diag::plain(format!(
                "the step counter cannot be negative, got {step}"
            )));
        }
        self.step = step;
        Ok(())
    }

    /// Writes a checkpoint to `dir` after every step whose count of steps
    /// done ([`Session::step`]) is a multiple of `every` (`--save-every`).
    pub fn save_every(&mut self, every: u64, dir: std::path::PathBuf) {
        self.save_every = Some((every.max(1), dir));
    }

    /// The datasets and their positions.
    pub fn data(&self) -> &DataFeeder {
        &self.data
    }

    /// The datasets, to move one (a checkpoint's restore).
    pub fn data_mut(&mut self) -> &mut DataFeeder {
        &mut self.data
    }

    /// The current value of a variable.
    pub fn variable(&self, name: &str) -> Option<&Tensor> {
        self.variables.get(name)
    }

    /// Every variable with its current value, in declaration order.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.module
            .variables
            .iter()
            .filter_map(|v| self.variables.get(&v.name).map(|t| (v.name.as_str(), t)))
    }

    /// Changes every variable in place, in declaration order (a data-parallel
    /// run broadcasts rank 0's values this way before the first step).
    pub fn update_variables(&mut self, mut f: impl FnMut(&str, &mut Tensor)) {
        for v in &self.module.variables {
            if let Some(t) = self.variables.get_mut(&v.name) {
                f(&v.name, t);
            }
        }
    }

    /// The checked plan of a step fetching `fetches` (built once, then cached).
    pub fn plan(&mut self, fetches: &[&str]) -> Result<Arc<Plan>, Diag> {
        let key: Vec<String> = fetches.iter().map(|s| s.to_string()).collect();
        if let Some(plan) = self.plans.get(&key) {
            return Ok(plan.clone());
        }
        let plan = Arc::new(Plan::new(&self.module, fetches)?);
        self.plans.insert(key, plan.clone());
        Ok(plan)
    }

    /// Checks, without computing anything, that a step fetching `fetches` can run
    /// now: its plan is valid and every placeholder it reads has a value.
    pub fn check(&mut self, fetches: &[&str]) -> Result<Arc<Plan>, Diag> {
        let plan = self.plan(fetches)?;
        for name in &plan.placeholders {
            if let Some(diag) = super::data::unbound_size(&self.module, name) {
                return Err(diag);
            }
            if !self.placeholders.contains_key(name) && !self.data.feeds(name) {
                return Err(step_inputs::missing_feed(&self.module, name));
            }
        }
        Ok(plan)
    }

    /// Runs one step and returns the fetched values, in order (a `group` gives a
    /// `bool[]` placeholder value; [`Plan::fetch_is_group`] tells which).
    ///
    /// Errors: an unknown fetch name, two assigns of one variable in the step, a
    /// placeholder the step needs that has neither a feed nor a default, or an
    /// error while computing (e.g. an index out of range).
    pub fn run(&mut self, fetches: &[&str]) -> Result<Vec<Tensor>, Diag> {
        let plan = match &self.ready {
            Some((key, plan)) if step_inputs::same_fetches(key, fetches) => Arc::clone(plan),
            _ => self.prepare(fetches)?,
        };
        if self.step == i32::MAX {
            return Err(Diag::plain(format!(
                "the step counter reached its largest value, {}",
                i32::MAX
            )));
        }
        step_inputs::set_step(&mut self.placeholders, self.step);
        self.data
            .batch_into(&plan.placeholders, &mut self.placeholders);
        if !self
            .ready
            .as_ref()
            .is_some_and(|(_, p)| Arc::ptr_eq(p, &plan))
        {
            let key = fetches.iter().map(|s| s.to_string()).collect();
            self.ready = Some((key, Arc::clone(&plan)));
        }
        let start = Instant::now();
        let exe = self
            .ready
            .as_ref()
            .and_then(|(key, _)| self.executables.get(key))
            .ok_or_else(|| {
                Diag::internal("the runtime", "the step's executable is missing", None)
            })?;
        let result = exe.run(&self.module.graph, &self.placeholders, &mut self.variables)?;
        if result.fetched.len() != plan.fetch_nodes.len() {
            self.keep_consumed(&result.updates);
            return Err(Diag::internal(
                "the interpreter",
                format!(
                    "{} values for {} fetches",
                    result.fetched.len(),
                    plan.fetch_nodes.len()
                ),
                None,
            ));
        }
        // Check every update before applying any: a step takes effect whole.
        if let Err(e) = step_inputs::check_updates(&self.module, &result.updates) {
            self.keep_consumed(&result.updates);
            return Err(e);
        }
        // The replaced values go back to the executable: the next step's
        // update kernels write into them (no new buffers per step).
        let mut replaced = Vec::with_capacity(result.updates.len());
        for (name, value) in result.updates {
            replaced.extend(self.variables.insert(name, value));
        }
        if let Some(exe) = self
            .ready
            .as_ref()
            .and_then(|(k, _)| self.executables.get(k))
        {
            exe.recycle(replaced);
        }
        if let Some(times) = &mut self.step_times {
            times.push(start.elapsed());
        }
        self.step += 1;
        self.data.advance(&plan.placeholders);
        if let Some((every, dir)) = &self.save_every {
            if u64::try_from(self.step).is_ok_and(|s| s.is_multiple_of(*every)) {
                super::checkpoint::save(self, dir)
                    .map_err(|m| Diag::plain(format!("--save-every: {m}")))?;
            }
        }
        Ok(result.fetched)
    }

    /// Hands back the values a [`Session::run`] of `fetches` returned, once the
    /// caller is done with them: on a backend that pools buffers (the JIT),
    /// later steps reuse them instead of allocating new ones (a training loop
    /// then needs no memory per step).
    pub fn recycle(&mut self, fetches: &[&str], values: Vec<Tensor>) {
        let exe = match &self.ready {
            Some((key, _)) if step_inputs::same_fetches(key, fetches) => self.executables.get(key),
            _ => {
                let key: Vec<String> = fetches.iter().map(|s| s.to_string()).collect();
                self.executables.get(&key)
            }
        };
        if let Some(exe) = exe {
            exe.recycle(values);
        }
    }

    /// [`Session::check`], then compiles the executable of `fetches` if it is
    /// not compiled yet (the first [`Session::run`] does this itself; calling
    /// it first keeps compiling out of the step).
    pub fn prepare(&mut self, fetches: &[&str]) -> Result<Arc<Plan>, Diag> {
        let plan = self.check(fetches)?;
        let key: Vec<String> = fetches.iter().map(|s| s.to_string()).collect();
        if !self.executables.contains_key(&key) {
            self.compile(key, &plan)?;
        }
        Ok(plan)
    }

    /// Takes the compiled executables out, by fetch list: the REPL keeps them
    /// with their module to start a later session of the same module without
    /// compiling again.
    pub fn take_executables(&mut self) -> HashMap<Vec<String>, Box<dyn Executable>> {
        self.ready = None;
        std::mem::take(&mut self.executables)
    }

    /// Hands in executables compiled for this session's module (by a session
    /// of the same module and engine) and not compiled again.
    pub fn give_executables(&mut self, executables: HashMap<Vec<String>, Box<dyn Executable>>) {
        self.executables.extend(executables);
    }

    /// The current value of a variable, writable in place (tests: keeps its
    /// buffer, unlike [`Session::feed`]).
    #[cfg(test)]
    pub(crate) fn variable_mut(&mut self, name: &str) -> Option<&mut Tensor> {
        self.variables.get_mut(name)
    }

    /// Buffers pooled by the executable of `fetches` (tests).
    #[cfg(test)]
    pub(crate) fn pooled_buffers(&self, fetches: &[&str]) -> Option<usize> {
        let key: Vec<String> = fetches.iter().map(|s| s.to_string()).collect();
        self.executables.get(&key).map(|e| e.pooled_buffers())
    }

    /// Compiles the executable of a fetch list, timing it.
    fn compile(&mut self, key: Vec<String>, plan: &Plan) -> Result<(), Diag> {
        let start = Instant::now();
        let exe = self.engine.compile(&self.module.graph, &plan.fetch_nodes)?;
        self.compile_time += start.elapsed();
        self.executables.insert(key, exe);
        Ok(())
    }

    /// After an internal error past the step: a variable whose buffer the
    /// step overwrote in place has only its update left; keep that one.
    fn keep_consumed(&mut self, updates: &[(String, Tensor)]) {
        for (name, value) in updates {
            if !self.variables.contains_key(name) {
                self.variables.insert(name.clone(), value.clone());
            }
        }
    }
}
