//! Generated programs that train on data: a `dataset` from an `.npz` (stored
//! or deflated members) or from `.npy` files, with `batch=`/`shuffle=`,
//! placeholders with `?` dimensions fed from it (the stored dtypes vary and
//! convert), a model in a `fn` built from slicing, `take`, `pad` modes,
//! `conv2d`, `max_pool2d`/`avg_pool2d` (`SAME`/`VALID`), `dropout`,
//! `random_normal`/`random_uniform`, weights from `he`/`truncated_normal`/
//! `xavier`, the cross-entropy losses, optimiser hyper-parameters that are
//! expressions of `step()`, and `run ... epochs E every K`. The data files are
//! made here (`Generated::files`), none is committed.

use crate::arrays::{self, V};
use crate::model::{features, init};
use crate::npz::{self, Entry};
use crate::rng::Rng;

/// A program with its data files.
pub struct Generated {
    pub source: String,
    pub files: Vec<(String, Vec<u8>)>,
    /// The training dataset: `train.npz`, or `train_x.npy` and `train_y.npy`.
    pub npz: bool,
    pub rows: usize,
    pub batch: Option<usize>,
    pub row: Vec<usize>,
    pub classes: usize,
}

/// What the data looks like: row count, each row's shape, classes.
struct Data {
    rows: usize,
    row: Vec<usize>,
    classes: usize,
}

/// `x` (rows of `row`) and `y` (class indices) in random stored dtypes.
fn arrays_of(rng: &mut Rng, d: &Data) -> (Vec<u8>, Vec<u8>) {
    let x_code = *rng.pick(&["f4", "f4", "f4", "f8", "f2", "u1", "i1", "i8"]);
    let mut y_codes = vec!["i4", "i8", "u1", "i1", "u2", "u8", "f4", "f8"];
    if d.classes == 2 {
        y_codes.push("b1");
    }
    let y_code = *rng.pick(&y_codes);
    let mut shape = vec![d.rows];
    shape.extend(&d.row);
    let n: usize = shape.iter().product();
    let xs: Vec<V> = (0..n).map(|_| arrays::small(rng, x_code, true)).collect();
    let ys: Vec<V> = (0..d.rows)
        .map(|_| V::I(rng.below(d.classes) as i128))
        .collect();
    let (little, fortran) = (rng.chance(5, 6), rng.chance(1, 10));
    (
        arrays::npy(x_code, little, fortran, &shape, &xs),
        arrays::npy(y_code, rng.chance(5, 6), false, &[d.rows], &ys),
    )
}

/// A valid archive of `x` and `y` of `rows` rows (sometimes with an unused
/// third array of as many rows).
pub fn archive(rng: &mut Rng, rows: usize, x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut entries = vec![
        Entry::new("x.npy", x, rng.chance(1, 2)),
        Entry::new("y.npy", y, rng.chance(1, 2)),
    ];
    if rng.chance(1, 5) {
        let extra = arrays::npy("f8", true, false, &[rows], &vec![V::F(0.5); rows]);
        entries.insert(rng.below(3), Entry::new("extra.npy", &extra, false));
    }
    npz::write(&entries, &npz::End::default())
}

fn dims(batch: &str, row: &[usize], rng: &mut Rng) -> String {
    let mut d = vec![batch.to_string()];
    d.extend(row.iter().map(|n| {
        if rng.chance(1, 6) {
            "?".to_string()
        } else {
            n.to_string()
        }
    }));
    format!("[{}]", d.join(", "))
}

/// A whole program and its files.
pub fn program(rng: &mut Rng) -> Generated {
    let images = rng.chance(1, 3);
    let row = if images {
        vec![3 + rng.below(4), 3 + rng.below(4), 1 + rng.below(2)]
    } else {
        vec![2 + rng.below(5)]
    };
    let d = Data {
        rows: 4 + rng.below(9),
        row,
        classes: 2 + rng.below(3),
    };
    let batch = if rng.chance(3, 4) {
        Some(1 + rng.below(d.rows))
    } else {
        None
    };
    let (x, y) = arrays_of(rng, &d);
    let npz = rng.chance(2, 3);
    let mut files = Vec::new();
    let mut options = String::new();
    if let Some(b) = batch {
        options.push_str(&format!(", batch={b}"));
        if rng.chance(1, 2) {
            options.push_str(&format!(", shuffle={}", rng.below(5)));
        }
    }
    let mut decls = if npz {
        files.push(("train.npz".to_string(), archive(rng, d.rows, &x, &y)));
        vec![format!("dataset train = load(\"train.npz\"{options});")]
    } else {
        files.push(("train_x.npy".to_string(), x));
        files.push(("train_y.npy".to_string(), y));
        vec![format!(
            "dataset train = load(x=\"train_x.npy\", y=\"train_y.npy\"{options});"
        )]
    };
    let rows_fed = batch.unwrap_or(d.rows);
    let lead = if rng.chance(1, 4) {
        rows_fed.to_string()
    } else {
        "?".to_string()
    };
    decls.push(format!(
        "placeholder x: f32{} = train.x;",
        dims(&lead, &d.row, rng)
    ));
    decls.push(format!("placeholder y: i32[{lead}] = train.y;"));
    let mut seed = 10;
    let (body, width) = features(rng, &mut decls, &d.row, &mut seed);
    let c = d.classes;
    decls.push(format!("variable w: f32[{width}, {c}] = {};", init(rng, 3)));
    decls.push(format!("variable b: f32[{c}] = 0.0;"));
    let body = body.join("\n    ");
    let mut lets = vec![format!("fn model(h) {{\n    {body} @ w + b\n}}")];
    let input = match rng.below(6) {
        0 => {
            let shape: Vec<String> = std::iter::once(rows_fed)
                .chain(d.row.iter().copied())
                .map(|n| n.to_string())
                .collect();
            format!("x + 0.1 * random_normal([{}], seed=7)", shape.join(", "))
        }
        1 => {
            let shape: Vec<String> = std::iter::once(rows_fed)
                .chain(d.row.iter().copied())
                .map(|n| n.to_string())
                .collect();
            format!(
                "x + random_uniform([{}], -0.1, 0.1, seed=8)",
                shape.join(", ")
            )
        }
        _ => "x".to_string(),
    };
    lets.push(format!("let logits = model({input});"));
    let loss = match rng.below(5) {
        0 | 1 => "sparse_softmax_cross_entropy(logits, y)".to_string(),
        2 => format!("softmax_cross_entropy(logits, one_hot(y, {c}))"),
        3 => format!("sigmoid_cross_entropy(logits, one_hot(y, {c}))"),
        _ => format!("mean_squared_error(softmax(logits), one_hot(y, {c}))"),
    };
    let l2 = if rng.chance(1, 4) {
        " + 0.01 * sum(w * w)"
    } else {
        ""
    };
    lets.push(format!("let loss = {loss}{l2};"));
    lets.push("let t = step();".to_string());
    let lr = match rng.below(5) {
        0 => "0.1".to_string(),
        1 => {
            lets.push("let lr = 0.2 / (1.0 + cast(step(), f32) / 4.0);".to_string());
            "lr".to_string()
        }
        2 => {
            decls.push("placeholder lr: f32[] = 0.05;".to_string());
            "lr".to_string()
        }
        3 => {
            decls.push("variable lr: f32[] = 0.05;".to_string());
            "lr".to_string()
        }
        _ => "0.2 * 0.5".to_string(),
    };
    let opt = match rng.below(4) {
        0 => format!("sgd({lr})"),
        1 => format!("momentum({lr}, beta=0.9)"),
        2 => format!("momentum({lr}, beta=0.5 + 0.4 * sigmoid(cast(step(), f32)))"),
        // eps as in programs.rs: a large one keeps rounding-sized gradients small.
        _ => format!("adam({lr}, beta1=0.8, eps=0.01)"),
    };
    lets.push(format!("let train_step = minimize(loss, {opt});"));
    let mut runs = vec!["run loss, t;".to_string()];
    if rng.chance(1, 4) {
        lets.push("let acc = mean(cast(argmax(logits, 1) == y, f32));".to_string());
        runs[0] = "run loss, t, acc;".to_string();
    }
    let (e, k) = (1 + rng.below(3), 1 + rng.below(2));
    runs.push(if batch.is_some() && rng.chance(3, 4) {
        format!("run train_step, loss epochs {e} every {k};")
    } else {
        format!(
            "run train_step, loss repeat {} every {k};",
            1 + rng.below(6)
        )
    });
    runs.push("run loss, t;".to_string());
    let source = format!(
        "{}\n{}\n{}\n",
        decls.join("\n"),
        lets.join("\n"),
        runs.join("\n")
    );
    Generated {
        source,
        files,
        npz,
        rows: d.rows,
        batch,
        row: d.row,
        classes: d.classes,
    }
}

/// Other data for `g`'s dataset: `other.npz` with another row count (which
/// may be fewer than a batch), or `other_x.npy` with as many rows as `g`'s.
pub fn program_like(rng: &mut Rng, g: &Generated) -> Vec<(String, Vec<u8>)> {
    let rows = if g.npz { 1 + rng.below(12) } else { g.rows };
    let d = Data {
        rows,
        row: g.row.clone(),
        classes: g.classes,
    };
    let (x, y) = arrays_of(rng, &d);
    if g.npz {
        vec![("other.npz".to_string(), archive(rng, d.rows, &x, &y))]
    } else {
        vec![("other_x.npy".to_string(), x)]
    }
}
