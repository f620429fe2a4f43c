//! Datasets and `?` sizes as the build leaves them: each dataset's arrays
//! (loaded once, shared between builds), which placeholders they feed, which
//! placeholders were declared with `?`, and the pure functions of a step's
//! batch: the row order of an epoch (a Fisher–Yates permutation from our own
//! generator, `docs/language-notes.md`) and the rows it selects.

use super::init::Rng;
use super::tensor::Tensor;
use crate::diag::Span;
use ndarray::{ArrayD, Axis, IxDyn};
use std::sync::Arc;

/// One array of a dataset: its name and all its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetArray {
    pub name: String,
    pub value: Arc<Tensor>,
    /// `value` holds integers beyond `i32` as `f64` (`ir::data_files`): they
    /// convert to a placeholder's dtype by the integer rules.
    pub wide: bool,
}

/// `dataset NAME = load(...)`: arrays with a common row count.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetDecl {
    pub name: String,
    pub arrays: Vec<DatasetArray>,
    /// N, the leading dimension of every array (at least 1).
    pub rows: usize,
    /// `batch=B` (1 ..= N); `None` feeds all N rows every step.
    pub batch: Option<usize>,
    /// `shuffle=SEED`.
    pub shuffle: Option<u64>,
    /// This process's share of each batch in a data-parallel run.
    pub share: Share,
    pub span: Span,
}

/// In a run of `ranks` processes, process `rank` reads rows
/// `rank * B/ranks .. (rank + 1) * B/ranks` of each step's batch of `B` rows
/// (`batch=B` is the global batch); a dataset without `batch` is read whole by
/// every process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    pub rank: usize,
    pub ranks: usize,
}

impl Default for Share {
    fn default() -> Share {
        Share { rank: 0, ranks: 1 }
    }
}

impl DatasetDecl {
    /// The rows one step feeds: B, or N without `batch`.
    pub fn batch_rows(&self) -> usize {
        self.batch.unwrap_or(self.rows)
    }

    /// Whether each process reads only its share of a step's batch.
    pub fn is_split(&self) -> bool {
        self.batch.is_some() && self.share.ranks > 1
    }

    /// The rows this process reads a step: B / ranks when split, else
    /// [`DatasetDecl::batch_rows`].
    pub fn local_rows(&self) -> usize {
        match self.is_split() {
            true => self.batch_rows() / self.share.ranks,
            false => self.batch_rows(),
        }
    }

    /// The index, within the step's batch, of this process's first row.
    pub fn first_row(&self) -> usize {
        match self.is_split() {
            true => self.share.rank * self.local_rows(),
            false => 0,
        }
    }

    /// Steps in an epoch: floor(N / B) (the partial batch is dropped); 1
    /// without `batch`.
    pub fn steps_per_epoch(&self) -> u64 {
        (self.rows / self.batch_rows().max(1)).max(1) as u64
    }

    pub fn array(&self, name: &str) -> Option<&DatasetArray> {
        self.arrays.iter().find(|a| a.name == name)
    }
}

/// A placeholder fed `= DATASET.ARRAY`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFeed {
    pub placeholder: String,
    pub dataset: String,
    pub array: String,
}

/// A placeholder declared with `?` sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenPlaceholder {
    pub name: String,
    /// The declared sizes; `None` is `?`.
    pub dims: Vec<Option<usize>>,
    /// Whether the sizes were bound (by a feed, a default or a dataset); if
    /// not, the build used stand-in sizes and no step may read it.
    pub bound: bool,
}

/// What the build knows about datasets and `?` sizes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DataDecls {
    pub datasets: Vec<DatasetDecl>,
    pub feeds: Vec<DataFeed>,
    pub open: Vec<OpenPlaceholder>,
}

impl DataDecls {
    pub fn dataset(&self, name: &str) -> Option<&DatasetDecl> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// The dataset feed of a placeholder, if it has one.
    pub fn feed_of(&self, placeholder: &str) -> Option<&DataFeed> {
        self.feeds.iter().find(|f| f.placeholder == placeholder)
    }

    pub fn open(&self, placeholder: &str) -> Option<&OpenPlaceholder> {
        self.open.iter().find(|o| o.name == placeholder)
    }
}

/// `f32[?, 64]`: a declared type with its `?` sizes.
pub fn open_type_text(dtype: super::types::DType, dims: &[Option<usize>]) -> String {
    let dims: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "?".to_string(), |d| d.to_string()))
        .collect();
    format!("{dtype}[{}]", dims.join(", "))
}

/// The row order of epoch `epoch` of a dataset of `rows` rows.
pub fn epoch_order(rows: usize, shuffle: Option<u64>, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows).collect();
    let Some(seed) = shuffle else {
        return order;
    };
    let start = Rng::new(seed).next_u64() ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng::new(start);
    for i in (1..rows).rev() {
        let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
    order
}

/// The rows `indices` of `t` along axis 0, in that order.
pub fn select_rows(t: &Tensor, indices: &[usize]) -> Tensor {
    super::tensor::each_dtype!(t, a => rows_of(a, indices))
}

/// [`select_rows`] of one array: a row-major array (every dataset array is)
/// by one slice copy per row, since ndarray's `select` went element by element
/// through its dynamic-rank iterator on every training step.
fn rows_of<T: Clone>(a: &ArrayD<T>, indices: &[usize]) -> ArrayD<T> {
    let (Some(values), Some(&rows)) = (a.as_slice(), a.shape().first()) else {
        return a.select(Axis(0), indices);
    };
    if indices.iter().any(|&i| i >= rows) {
        // Out of range: `select`'s own panic message.
        return a.select(Axis(0), indices);
    }
    let width: usize = a.shape()[1..].iter().product();
    let mut out = Vec::with_capacity(indices.len() * width);
    for &i in indices {
        out.extend_from_slice(&values[i * width..(i + 1) * width]);
    }
    let mut dims = a.shape().to_vec();
    dims[0] = indices.len();
    ArrayD::from_shape_vec(IxDyn(&dims), out).unwrap_or_else(|_| a.select(Axis(0), indices))
}

/// [`select_rows`] written into `out`, which must already have the result's
/// dtype and shape and be row-major (the previous step's batch): `false`,
/// with `out` untouched, when it does not or an index is out of range.
pub fn select_rows_into(t: &Tensor, indices: &[usize], out: &mut Tensor) -> bool {
    fn into<T: Copy>(a: &ArrayD<T>, indices: &[usize], out: &mut ArrayD<T>) -> bool {
        let (Some(values), Some(&rows)) = (a.as_slice(), a.shape().first()) else {
            return false;
        };
        let fits = out.shape().split_first() == Some((&indices.len(), &a.shape()[1..]));
        if !fits || indices.iter().any(|&i| i >= rows) {
            return false;
        }
        let width: usize = a.shape()[1..].iter().product();
        let Some(dst) = out.as_slice_mut() else {
            return false;
        };
        for (row, &i) in dst.chunks_exact_mut(width.max(1)).zip(indices) {
            row.copy_from_slice(&values[i * width..(i + 1) * width]);
        }
        true
    }
    match (t, out) {
        (Tensor::F32(a), Tensor::F32(o)) => into(a, indices, o),
        (Tensor::F64(a), Tensor::F64(o)) => into(a, indices, o),
        (Tensor::I32(a), Tensor::I32(o)) => into(a, indices, o),
        (Tensor::Bool(a), Tensor::Bool(o)) => into(a, indices, o),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::types::{DType, TensorType};

    #[test]
    fn selected_rows_are_copied_in_the_given_order() {
        let a = ndarray::ArrayD::from_shape_vec(IxDyn(&[4, 2, 3]), (0..24).collect::<Vec<i32>>())
            .unwrap();
        let Tensor::I32(got) = select_rows(&Tensor::I32(a.clone()), &[3, 0, 3]) else {
            panic!("the dtype changed");
        };
        assert_eq!(got, a.select(Axis(0), &[3, 0, 3]));
        // A transposed (not row-major) array takes ndarray's path: same rows.
        let t = a.clone().permuted_axes(IxDyn(&[0, 2, 1]));
        let Tensor::I32(got) = select_rows(&Tensor::I32(t.clone()), &[1, 2]) else {
            panic!("the dtype changed");
        };
        assert_eq!(got, t.select(Axis(0), &[1, 2]));
        let Tensor::I32(none) = select_rows(&Tensor::I32(a), &[]) else {
            panic!("the dtype changed");
        };
        assert_eq!(none.shape(), &[0, 2, 3]);
    }

    #[test]
    fn rows_selected_into_a_buffer_are_select_rows_in_place() {
        let a = ndarray::ArrayD::from_shape_vec(IxDyn(&[4, 2, 3]), (0..24).collect::<Vec<i32>>())
            .unwrap();
        let t = Tensor::I32(a);
        let mut out = select_rows(&t, &[0, 1]);
        let before = match &out {
            Tensor::I32(o) => o.as_ptr(),
            _ => panic!("the dtype changed"),
        };
        assert!(select_rows_into(&t, &[3, 0], &mut out));
        assert_eq!(out, select_rows(&t, &[3, 0]));
        assert!(
            matches!(&out, Tensor::I32(o) if o.as_ptr() == before),
            "same buffer"
        );
        // Another row count, dtype or row shape, or an index out of range:
        // refused and untouched.
        let kept = out.clone();
        assert!(!select_rows_into(&t, &[1], &mut out));
        assert!(!select_rows_into(&t, &[1, 4], &mut out));
        let mut f = Tensor::F32(ndarray::ArrayD::zeros(IxDyn(&[2, 2, 3])));
        assert!(!select_rows_into(&t, &[1, 2], &mut f));
        let mut narrow = Tensor::I32(ndarray::ArrayD::zeros(IxDyn(&[2, 3, 2])));
        assert!(!select_rows_into(&t, &[1, 2], &mut narrow));
        assert_eq!(out, kept);
        // Rows of no width (a `[N, 0]` array).
        let empty = Tensor::F32(ndarray::ArrayD::zeros(IxDyn(&[3, 0])));
        let mut e = select_rows(&empty, &[0, 2]);
        assert!(select_rows_into(&empty, &[2, 1], &mut e));
        assert_eq!(e.shape(), &[2, 0]);
    }

    #[test]
    fn without_shuffle_the_order_is_the_rows_in_turn() {
        assert_eq!(epoch_order(5, None, 0), vec![0, 1, 2, 3, 4]);
        assert_eq!(epoch_order(5, None, 7), vec![0, 1, 2, 3, 4]);
        assert!(epoch_order(0, Some(1), 0).is_empty());
    }

    #[test]
    fn a_shuffled_order_is_a_permutation() {
        for rows in [1, 2, 3, 10, 97] {
            let mut order = epoch_order(rows, Some(42), 3);
            order.sort_unstable();
            assert_eq!(order, (0..rows).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_shuffled_order_is_deterministic_and_pinned() {
        assert_eq!(epoch_order(50, Some(1), 0), epoch_order(50, Some(1), 0));
        // Pinned: a change of generator or formula shows here.
        assert_eq!(epoch_order(8, Some(1), 0), PINNED_SEED1_EPOCH0);
    }

    // From a Python port of the formula in the module header.
    const PINNED_SEED1_EPOCH0: [usize; 8] = [4, 1, 7, 5, 3, 0, 6, 2];

    #[test]
    fn the_order_differs_per_epoch_and_per_seed() {
        let e0 = epoch_order(50, Some(1), 0);
        let e1 = epoch_order(50, Some(1), 1);
        let other_seed = epoch_order(50, Some(2), 0);
        assert_ne!(e0, e1);
        assert_ne!(e0, other_seed);
        assert_ne!(e0, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn select_rows_gathers_along_axis_0() {
        let ty = TensorType::new(DType::I32, vec![3, 2]);
        let t = Tensor::from_f64_vec(&ty, vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0]).unwrap();
        let rows = select_rows(&t, &[2, 0]);
        assert_eq!(rows.shape(), &[2, 2]);
        assert_eq!(rows.to_f64_vec(), vec![20.0, 21.0, 0.0, 1.0]);
    }

    #[test]
    fn steps_per_epoch_drops_the_partial_batch() {
        let mut d = DatasetDecl {
            name: "d".into(),
            arrays: Vec::new(),
            rows: 10,
            batch: Some(3),
            shuffle: None,
            share: Share::default(),
            span: Span::new(0, 0),
        };
        assert_eq!(d.steps_per_epoch(), 3);
        d.batch = None;
        assert_eq!((d.steps_per_epoch(), d.batch_rows()), (1, 10));
    }

    #[test]
    fn a_split_batch_gives_each_rank_its_rows() {
        let mut d = DatasetDecl {
            name: "d".into(),
            arrays: Vec::new(),
            rows: 20,
            batch: Some(8),
            shuffle: None,
            share: Share { rank: 3, ranks: 4 },
            span: Span::new(0, 0),
        };
        assert!(d.is_split());
        assert_eq!((d.local_rows(), d.first_row()), (2, 6));
        assert_eq!(d.steps_per_epoch(), 2, "epochs count global batches");
        d.batch = None;
        assert!(!d.is_split(), "a dataset without `batch` is read whole");
        assert_eq!((d.local_rows(), d.first_row()), (20, 0));
    }
}
