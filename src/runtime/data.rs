//! Feeding placeholders from datasets, step by step: a step that reads a
//! dataset's placeholder feeds the next batch of its rows (this process's share
//! in a data-parallel run), and the dataset advances once the step succeeds
//! (`docs/language-notes.md`). A checkpoint saves and restores the position.

use crate::diag::Diag;
use crate::ir::data::{
    epoch_order, select_rows, select_rows_into, DataDecls, DataFeed, DatasetDecl,
};
use crate::ir::{Module, Tensor};
use std::collections::HashMap;

/// Where a dataset is: its epoch (from 0) and the step within it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Position {
    pub epoch: u64,
    pub step: u64,
}

struct DatasetState {
    decl: DatasetDecl,
    position: Position,
    /// The row order of `order.0`, computed once per epoch.
    order: Option<(u64, Vec<usize>)>,
}

/// The datasets of a module and where each one is.
#[derive(Default)]
pub struct DataFeeder {
    states: Vec<DatasetState>,
    feeds: Vec<DataFeed>,
}

impl DataFeeder {
    pub fn new(data: &DataDecls) -> DataFeeder {
        DataFeeder {
            states: data
                .datasets
                .iter()
                .map(|d| DatasetState {
                    decl: d.clone(),
                    position: Position::default(),
                    order: None,
                })
                .collect(),
            feeds: data.feeds.clone(),
        }
    }

    /// Whether a dataset feeds placeholder `name`.
    pub fn feeds(&self, name: &str) -> bool {
        self.feeds.iter().any(|f| f.placeholder == name)
    }

    /// Every dataset with its position, in declaration order.
    pub fn positions(&self) -> Vec<(String, Position)> {
        self.states
            .iter()
            .map(|s| (s.decl.name.clone(), s.position))
            .collect()
    }

    pub fn position(&self, dataset: &str) -> Option<Position> {
        self.state(dataset).map(|s| s.position)
    }

    /// Moves a dataset to `position`; the step must lie within an epoch.
    pub fn set_position(&mut self, dataset: &str, position: Position) -> Result<(), String> {
        let Some(i) = self.states.iter().position(|s| s.decl.name == dataset) else {
            return Err(format!("there is no dataset `{dataset}`"));
        };
        let steps = self.states[i].decl.steps_per_epoch();
        if position.step >= steps {
            return Err(format!(
                "dataset `{dataset}`: step {} is past the end of its {steps}-step epoch",
                position.step
            ));
        }
        self.states[i].position = position;
        Ok(())
    }

    /// The datasets a step reading `placeholders` reads, in declaration order.
    pub fn read_by(&self, placeholders: &[String]) -> Vec<&DatasetDecl> {
        self.states
            .iter()
            .filter(|s| self.reads(s, placeholders))
            .map(|s| &s.decl)
            .collect()
    }

    fn reads(&self, s: &DatasetState, placeholders: &[String]) -> bool {
        self.feeds
            .iter()
            .any(|f| f.dataset == s.decl.name && placeholders.contains(&f.placeholder))
    }

    /// The values of the step's dataset-fed placeholders, at each dataset's
    /// current position.
    pub fn batch(&mut self, placeholders: &[String]) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        self.each_batch(placeholders, |name, array, rows| {
            out.push((name.to_string(), select_rows(array, rows)));
        });
        out
    }

    /// [`DataFeeder::batch`] written into `feeds`: rows are copied straight
    /// into a placeholder's previous batch when it has the batch's type (every
    /// step after the first), else the batch is a new entry.
    pub fn batch_into(&mut self, placeholders: &[String], feeds: &mut HashMap<String, Tensor>) {
        self.each_batch(placeholders, |name, array, rows| {
            if let Some(old) = feeds.get_mut(name) {
                if select_rows_into(array, rows, old) {
                    return;
                }
            }
            feeds.insert(name.to_string(), select_rows(array, rows));
        });
    }

    /// Calls `f(placeholder, array, rows)` for each dataset-fed placeholder
    /// the step reads: the rows of the array it reads at its dataset's
    /// current position.
    fn each_batch(&mut self, placeholders: &[String], mut f: impl FnMut(&str, &Tensor, &[usize])) {
        for i in 0..self.states.len() {
            if !self.reads(&self.states[i], placeholders) {
                continue;
            }
            let state = &mut self.states[i];
            let Position { epoch, step } = state.position;
            if state.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                state.order = Some((
                    epoch,
                    epoch_order(state.decl.rows, state.decl.shuffle, epoch),
                ));
            }
            // In a data-parallel run, this process's share of the step's batch.
            let b = state.decl.batch_rows();
            let start = (step as usize)
                .saturating_mul(b)
                .saturating_add(state.decl.first_row());
            let end = start.saturating_add(state.decl.local_rows());
            let rows = match &state.order {
                Some((_, order)) => order.get(start..end).unwrap_or(&[]),
                None => &[],
            };
            for feed in self
                .feeds
                .iter()
                .filter(|f| f.dataset == state.decl.name && placeholders.contains(&f.placeholder))
            {
                if let Some(a) = state.decl.array(&feed.array) {
                    f(&feed.placeholder, &a.value, rows);
                }
            }
        }
    }

    /// Advances every dataset a step reading `placeholders` read.
    pub fn advance(&mut self, placeholders: &[String]) {
        for i in 0..self.states.len() {
            if self.reads(&self.states[i], placeholders) {
                let state = &mut self.states[i];
                state.position.step += 1;
                if state.position.step >= state.decl.steps_per_epoch() {
                    state.position = Position {
                        epoch: state.position.epoch + 1,
                        step: 0,
                    };
                }
            }
        }
    }

    fn state(&self, dataset: &str) -> Option<&DatasetState> {
        self.states.iter().find(|s| s.decl.name == dataset)
    }
}

/// An error unless `name` may be fed directly: a placeholder a dataset feeds
/// is fed through its dataset.
pub fn check_direct_feed(module: &Module, name: &str) -> Result<(), Diag> {
    let Some(feed) = module.data.feed_of(name) else {
        return Ok(());
    };
    let span = module.placeholder(name).map(|p| p.span);
    let message = format!(
        "cannot feed `{name}`: it is fed by dataset `{}`",
        feed.dataset
    );
    let diag = match span {
        Some(span) => Diag::error(message, span),
        None => Diag::plain(message),
    };
    Err(diag.with_note(format!(
        "replace the dataset's array instead: `--feed {}.{}=FILE.npy`",
        feed.dataset, feed.array
    )))
}

/// The error of a step that reads a `?` placeholder nothing binds.
pub fn unbound_size(module: &Module, name: &str) -> Option<Diag> {
    let open = module.data.open(name).filter(|o| !o.bound)?;
    let p = module.placeholder(name)?;
    let declared = crate::ir::data::open_type_text(p.ty.dtype, &open.dims);
    Some(
        Diag::error(
            format!("placeholder `{name}: {declared}` needs a feed: nothing gives its `?` size"),
            p.span,
        )
        .with_note(format!(
            "feed it (`--feed {name}=FILE.npy`), give it a default (`= load(\"x.npy\")`) \
             or a dataset (`= train.x`)"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::Position;
    use crate::runtime::Session;
    use std::path::Path;

    fn session() -> Session {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data");
        let source = "dataset d = load(x=\"rows_x.npy\", batch=4);\n\
                      placeholder x: f32[?, 1] = d.x;\nlet s = sum(x);\nlet c = 1.0;\n";
        Session::new(
            crate::compile(source, &dir).expect("builds"),
            Box::new(crate::backend::interp::Interpreter),
        )
    }

    fn sum(session: &mut Session) -> f64 {
        session.run(&["s"]).expect("runs")[0].to_f64_vec()[0]
    }

    #[test]
    fn a_dataset_advances_once_per_step_that_reads_it() {
        let mut s = session();
        let at = |s: &Session| s.data().position("d").expect("a dataset");
        assert_eq!(at(&s), Position { epoch: 0, step: 0 });
        assert_eq!(sum(&mut s), 6.0); // rows 0..4
        assert_eq!(at(&s), Position { epoch: 0, step: 1 });
        s.run(&["c"]).expect("runs");
        assert_eq!(at(&s), Position { epoch: 0, step: 1 }, "`c` reads no data");
        assert_eq!(sum(&mut s), 22.0); // rows 4..8; 10 rows make 2 steps
        assert_eq!(at(&s), Position { epoch: 1, step: 0 });
    }

    #[test]
    fn a_position_can_be_restored() {
        let mut s = session();
        let target = Position { epoch: 3, step: 1 };
        s.data_mut()
            .set_position("d", target)
            .expect("within the epoch");
        assert_eq!(s.data().positions(), vec![("d".to_string(), target)]);
        assert_eq!(sum(&mut s), 22.0);
        let past = Position { epoch: 0, step: 2 };
        assert!(s.data_mut().set_position("d", past).is_err());
        assert!(s.data_mut().set_position("nope", target).is_err());
    }
}
