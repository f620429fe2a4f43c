//! A short list kept on the stack: a kernel call's operands, their types and
//! its output pointers are built every step, and most kernels have a handful
//! of them, so they need no allocation (a longer list goes to the heap).

use std::ops::Deref;

/// Up to `N` items inline, more in a `Vec`.
pub(crate) enum List<T: Copy, const N: usize> {
    Stack([T; N], usize),
    Heap(Vec<T>),
}

impl<T: Copy, const N: usize> List<T, N> {
    /// The items of `items` (of known length; `fill` pads the unused stack
    /// cells), or the first error.
    pub(crate) fn try_from_iter<E>(
        fill: T,
        items: impl ExactSizeIterator<Item = Result<T, E>>,
    ) -> Result<List<T, N>, E> {
        if items.len() > N {
            return items.collect::<Result<Vec<T>, E>>().map(List::Heap);
        }
        let mut cells = [fill; N];
        let mut n = 0;
        for (cell, item) in cells.iter_mut().zip(items) {
            *cell = item?;
            n += 1;
        }
        Ok(List::Stack(cells, n))
    }

    /// [`List::try_from_iter`] of items that cannot fail.
    pub(crate) fn from_iter(fill: T, items: impl ExactSizeIterator<Item = T>) -> List<T, N> {
        match Self::try_from_iter::<()>(fill, items.map(Ok)) {
            Ok(list) => list,
            Err(()) => List::Heap(Vec::new()),
        }
    }

    /// One more item (to the heap once the stack is full).
    pub(crate) fn push(&mut self, item: T) {
        match self {
            List::Stack(cells, n) if *n < N => {
                cells[*n] = item;
                *n += 1;
            }
            List::Stack(cells, n) => {
                let mut v = cells[..*n].to_vec();
                v.push(item);
                *self = List::Heap(v);
            }
            List::Heap(v) => v.push(item),
        }
    }
}

impl<T: Copy, const N: usize> Deref for List<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            List::Stack(cells, n) => &cells[..*n],
            List::Heap(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::List;

    #[test]
    fn short_lists_stay_inline_and_long_ones_spill() {
        let short: List<u32, 4> = List::from_iter(0, [1, 2, 3].into_iter());
        assert!(matches!(short, List::Stack(_, 3)));
        assert_eq!(&*short, &[1, 2, 3]);
        let long: List<u32, 2> = List::from_iter(0, [1, 2, 3].into_iter());
        assert!(matches!(long, List::Heap(_)));
        assert_eq!(&*long, &[1, 2, 3]);
        let mut grown: List<u32, 2> = List::from_iter(0, [7].into_iter());
        grown.push(8);
        assert!(matches!(grown, List::Stack(_, 2)));
        grown.push(9);
        assert_eq!(&*grown, &[7, 8, 9]);
    }

    #[test]
    fn the_first_error_is_returned() {
        let items = [Ok(1), Err("second"), Err("third")];
        let got: Result<List<i32, 4>, _> = List::try_from_iter(0, items.into_iter());
        assert!(matches!(got, Err("second")));
        let items = [Ok(1), Ok(2), Err("third")];
        let got: Result<List<i32, 2>, _> = List::try_from_iter(0, items.into_iter());
        assert!(matches!(got, Err("third")), "spilled lists too");
    }
}
