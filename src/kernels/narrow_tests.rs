use super::*;

/// Deterministic values in [-1, 1).
fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn runnable() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.missing().is_empty())
        .collect()
}

/// `a @ b`, both row-major unless `trans_a`/`trans_b` (then stored as `[k, m]`
/// / `[n, k]`), by `isa` on `threads`.
fn run(
    isa: Isa,
    (a, trans_a): (&[f32], bool),
    (b, trans_b): (&[f32], bool),
    (m, k, n): (usize, usize, usize),
    threads: usize,
) -> Vec<f32> {
    let mut c = vec![f32::NAN; m * n];
    let (a_rs, a_cs) = if trans_a {
        (1, m as isize)
    } else {
        (k as isize, 1)
    };
    let (b_rs, b_cs) = if trans_b {
        (1, k as isize)
    } else {
        (n as isize, 1)
    };
    let a = Strided {
        ptr: a.as_ptr(),
        rs: a_rs,
        cs: a_cs,
    };
    let b = Strided {
        ptr: b.as_ptr(),
        rs: b_rs,
        cs: b_cs,
    };
    let cm = Strided {
        ptr: c.as_mut_ptr(),
        rs: n as isize,
        cs: 1,
    };
    // SAFETY: the buffers hold m*k, k*n and m*n elements addressed by these
    // strides; `isa` runs here.
    unsafe { product_by(isa, a, b, cm, (m, k, n), threads) };
    c
}

fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols * rows)
        .map(|i| x[(i % rows) * cols + i / rows])
        .collect()
}

const SHAPES: [(usize, usize, usize); 8] = [
    (1, 1, 1),
    (7, 5, 10),
    (8, 64, 16),
    (9, 3, 2),
    (33, 512, 10),
    (17, 32, 15),
    (512, 32, 10),
    (3, 100, 16),
];

#[test]
fn products_match_a_reference_on_every_instruction_set() {
    for isa in runnable() {
        for (m, k, n) in SHAPES {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let c = run(isa, (&a, false), (&b, false), (m, k, n), 1);
            for i in 0..m {
                for j in 0..n {
                    let exact: f64 = (0..k)
                        .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                        .sum();
                    let bound: f64 = (0..k)
                        .map(|p| (a[i * k + p] as f64 * b[p * n + j] as f64).abs())
                        .sum();
                    let got = c[i * n + j] as f64;
                    assert!(
                        (got - exact).abs() <= 1e-6 * bound * (k as f64).sqrt() + 1e-30,
                        "{isa:?} {m}x{k}x{n} [{i},{j}]: {got} vs {exact}"
                    );
                }
            }
        }
    }
}

#[test]
fn strides_threads_and_row_blocks_give_the_same_bits() {
    for isa in runnable() {
        for (m, k, n) in SHAPES {
            let (a, b) = (values(m * k, 3), values(k * n, 4));
            let plain = run(isa, (&a, false), (&b, false), (m, k, n), 1);
            let (at, bt) = (transpose(&a, m, k), transpose(&b, k, n));
            let strided = run(isa, (&at, true), (&bt, true), (m, k, n), 1);
            let split = run(isa, (&a, false), (&b, false), (m, k, n), 2);
            assert_eq!(plain, strided, "{isa:?} {m}x{k}x{n}: strides");
            assert_eq!(plain, split, "{isa:?} {m}x{k}x{n}: threads");
        }
        // Equal rows of `a` on both sides of a row block's edge: equal rows.
        let (m, k, n) = (29, 40, 10); // blocks of 12, 4 and 1 rows
        let row = values(k, 5);
        let a: Vec<f32> = (0..m).flat_map(|_| row.iter().copied()).collect();
        let c = run(isa, (&a, false), (&values(k * n, 6), false), (m, k, n), 1);
        for i in 1..m {
            assert_eq!(c[..n], c[i * n..(i + 1) * n], "{isa:?}: row {i}");
        }
    }
}

#[test]
fn the_vector_sets_give_the_same_bits() {
    let vector: Vec<Isa> = runnable()
        .into_iter()
        .filter(|isa| *isa != Isa::Portable)
        .collect();
    if vector.len() < 2 {
        return; // this CPU runs at most one vector set: nothing to compare
    }
    for (m, k, n) in SHAPES {
        let (a, b) = (values(m * k, 7), values(k * n, 8));
        let first = run(vector[0], (&a, false), (&b, false), (m, k, n), 1);
        for &isa in &vector[1..] {
            let other = run(isa, (&a, false), (&b, false), (m, k, n), 1);
            assert_eq!(first, other, "{isa:?} {m}x{k}x{n}");
        }
    }
}

/// An output row with room past its `n` columns (a band of a wider buffer)
/// gets exactly its `n` values, and a transposed output the same values:
/// the masked store and the strided one agree and write nothing else.
#[test]
fn outputs_in_bands_and_transposed_hold_the_same_bits_and_nothing_more() {
    let (m, k, n) = (29, 37, 10);
    let (a, b) = (values(m * k, 5), values(k * n, 6));
    for isa in runnable() {
        let want = run(isa, (&a, false), (&b, false), (m, k, n), 1);
        let a_s = Strided {
            ptr: a.as_ptr(),
            rs: k as isize,
            cs: 1,
        };
        let b_s = Strided {
            ptr: b.as_ptr(),
            rs: n as isize,
            cs: 1,
        };
        let width = n + 3;
        let mut band = vec![7.5f32; m * width];
        let c = Strided {
            ptr: band.as_mut_ptr(),
            rs: width as isize,
            cs: 1,
        };
        // SAFETY: `band` holds m rows of `width >= n` values; `isa` runs here.
        unsafe { product_by(isa, a_s, b_s, c, (m, k, n), 1) };
        for i in 0..m {
            let row = &band[i * width..(i + 1) * width];
            let got: Vec<u32> = row[..n].iter().map(|v| v.to_bits()).collect();
            let expected: Vec<u32> = want[i * n..(i + 1) * n]
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(got, expected, "{isa:?} row {i}");
            assert!(row[n..].iter().all(|&v| v == 7.5), "{isa:?} row {i} past n");
        }
        let mut t = vec![f32::NAN; m * n];
        let c = Strided {
            ptr: t.as_mut_ptr(),
            rs: 1,
            cs: m as isize,
        };
        // SAFETY: `t` holds n*m values addressed column-major; `isa` runs here.
        unsafe { product_by(isa, a_s, b_s, c, (m, k, n), 1) };
        let back = transpose(&t, n, m);
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&want), "{isa:?} transposed");
    }
}
