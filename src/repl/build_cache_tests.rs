use super::CAPACITY;
use crate::ir::{DType, Tensor, TensorType};
use crate::repl::Repl;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tdsl-build-cache-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `q.npy` files of `rows` rows of f32[3] for each of `sizes`.
fn files(dir: &Path, sizes: &[usize]) -> Vec<PathBuf> {
    sizes
        .iter()
        .map(|&rows| {
            let ty = TensorType::new(DType::F32, vec![rows, 3]);
            let values = (0..rows * 3).map(|i| i as f64 * 0.25 - 1.0).collect();
            let path = dir.join(format!("q{rows}.npy"));
            let t = Tensor::from_f64_vec(&ty, values).unwrap();
            crate::ir::npy::write_npy_atomic(&path, &t).unwrap();
            path
        })
        .collect()
}

const PROGRAM: &str = "placeholder q: f32[?, 3];
variable w: f32[3] = [0.5, -1.0, 2.0];
let s = sum(tanh(q * w), axis=0);
let t = sum(q);";

/// Feeds each file in turn and runs `s` and `t` after each feed: the values.
fn switch(repl: &mut Repl, order: &[&Path]) -> Vec<Vec<Tensor>> {
    order
        .iter()
        .map(|path| {
            assert_eq!(super::super::data::feed(repl, "q", path), Some(true));
            repl.session.run(&["s", "t"]).unwrap()
        })
        .collect()
}

#[test]
fn switching_back_to_a_size_takes_its_build_and_compiled_code() {
    let dir = temp_dir("hits");
    let paths = files(&dir, &[4, 5]);
    let (a, b) = (paths[0].as_path(), paths[1].as_path());
    let mut repl = Repl::new();
    repl.items(PROGRAM);
    assert_eq!(repl.errors, 0);
    switch(&mut repl, &[a, b]);
    assert_eq!((repl.cache.builds, repl.cache.hits), (2, 0));
    // Back to 4 rows, then 5 again: no build, no compile.
    for path in [a, b] {
        switch(&mut repl, &[path]);
        assert_eq!(
            repl.session.compile_time(),
            Duration::ZERO,
            "compiled again"
        );
    }
    assert_eq!((repl.cache.builds, repl.cache.hits), (2, 2));
    assert_eq!(
        repl.session
            .module()
            .placeholder("q")
            .unwrap()
            .ty
            .shape
            .dims(),
        &[5, 3]
    );
    // A new item changes the program: its sizes are built anew.
    repl.items("let u = mean(q);");
    switch(&mut repl, &[a]);
    assert_eq!((repl.cache.builds, repl.cache.hits), (3, 2));
    repl.reset();
    assert_eq!(repl.cache.len(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn results_are_the_same_with_and_without_the_cache() {
    let dir = temp_dir("same");
    let paths = files(&dir, &[2, 3, 7]);
    let order: Vec<&Path> = [0, 1, 2, 0, 2, 1, 0]
        .iter()
        .map(|&i| paths[i].as_path())
        .collect();
    let mut cached = Repl::new();
    cached.items(PROGRAM);
    let with = switch(&mut cached, &order);
    let mut uncached = Repl::new();
    uncached.cache.off = true;
    uncached.items(PROGRAM);
    let without = switch(&mut uncached, &order);
    assert_eq!((cached.cache.builds, cached.cache.hits), (3, 4));
    assert_eq!((uncached.cache.builds, uncached.cache.hits), (7, 0));
    // Same binary, CPU and thread count: bitwise equal.
    assert_eq!(with, without);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cache_keeps_the_last_builds_only() {
    let dir = temp_dir("bounded");
    let sizes: Vec<usize> = (1..=CAPACITY + 2).collect();
    let paths = files(&dir, &sizes);
    let mut repl = Repl::new();
    repl.items(PROGRAM);
    for path in &paths {
        switch(&mut repl, &[path]);
    }
    assert_eq!(repl.cache.len(), CAPACITY);
    // The first size was dropped; the second-newest is still there.
    let builds = repl.cache.builds;
    switch(&mut repl, &[&paths[0]]);
    assert_eq!(repl.cache.builds, builds + 1);
    switch(&mut repl, &[&paths[CAPACITY]]);
    assert_eq!(repl.cache.builds, builds + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
