//! The kernels of an [`Executable`](super::Executable) by kind: one struct per
//! kind (a fused group, a fused reduction, a matmul) holding its plan and its
//! compiled kernel together, each kind in its own [`Table`] indexed by its own
//! id type, so a `Step` names its kernel by an id that cannot index another
//! kind's table.

use super::codegen::Kernel;
use super::fused::Group;
use super::matmul::MatMul;
use super::reduce::Reduction;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// An index into one kind's [`Table`].
pub(crate) trait Id: Copy {
    fn new(index: usize) -> Self;
    fn index(self) -> usize;
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(usize);

        impl Id for $name {
            fn new(index: usize) -> $name {
                $name(index)
            }
            fn index(self) -> usize {
                self.0
            }
        }
    };
}

id!(
    /// A fused elementwise group ([`FusedKernel`]).
    FusedId
);
id!(
    /// A fused reduction ([`ReduceKernel`]).
    ReduceId
);
id!(
    /// A matmul kernel ([`MatMulKernel`]).
    MatMulId
);
id!(
    /// A `cond`, `fold` or `scan` node's compiled regions.
    RegionId
);

/// A vector indexed by one id type only.
pub(crate) struct Table<I, T> {
    items: Vec<T>,
    id: PhantomData<fn(I) -> I>,
}

impl<I: Id, T> Table<I, T> {
    pub(crate) fn new() -> Table<I, T> {
        Table {
            items: Vec::new(),
            id: PhantomData,
        }
    }

    /// Appends `item`: its id.
    pub(crate) fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::new(self.items.len() - 1)
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn get(&self, id: I) -> Option<&T> {
        self.items.get(id.index())
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// The ids in order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = I> {
        (0..self.items.len()).map(I::new)
    }

    /// Every item with its id.
    pub(crate) fn iter_enumerated(&self) -> impl Iterator<Item = (I, &T)> {
        self.items.iter().enumerate().map(|(i, t)| (I::new(i), t))
    }
}

impl<I: Id, T> Default for Table<I, T> {
    fn default() -> Table<I, T> {
        Table::new()
    }
}

impl<I: Id, T> Index<I> for Table<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        &self.items[id.index()]
    }
}

impl<I: Id, T> IndexMut<I> for Table<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.items[id.index()]
    }
}

impl<I: Id, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Table<I, T> {
        Table {
            items: iter.into_iter().collect(),
            id: PhantomData,
        }
    }
}

impl<I: Id, T> IntoIterator for Table<I, T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, I: Id, T> IntoIterator for &'a Table<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// A fused elementwise group and its kernel.
pub(crate) struct FusedKernel {
    pub(crate) group: Group,
    pub(crate) kernel: Kernel,
    /// The size of the kernel's outermost loop (split among threads) and the
    /// elements per step of it.
    pub(crate) split: (usize, usize),
}

/// A fused reduction and its kernel.
pub(crate) struct ReduceKernel {
    pub(crate) reduction: Reduction,
    pub(crate) kernel: Kernel,
}

/// A planned matmul (the buffers it reads and their layouts) and its kernel.
pub(crate) struct MatMulKernel {
    pub(crate) plan: MatMul,
    pub(crate) kernel: Kernel,
}
