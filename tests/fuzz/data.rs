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

/// The length of `start:stop:step` over `n`, as Python computes it.
fn slice_len(n: i64, start: i64, stop: i64, step: i64) -> usize {
    let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
    let norm = |v: i64| if v < 0 { v + n } else { v };
    let (s, e) = if step > 0 {
        (clamp(norm(start), 0, n), clamp(norm(stop), 0, n))
    } else {
        (clamp(norm(start), -1, n - 1), clamp(norm(stop), -1, n - 1))
    };
    let len = if step > 0 {
        (e - s + step - 1) / step
    } else {
        (s - e + (-step) - 1) / (-step)
    };
    len.max(0) as usize
}

/// A slice over an axis of `n` that keeps at least one element: text, length.
fn slice(rng: &mut Rng, n: usize) -> (String, usize) {
    let n = n as i64;
    for _ in 0..8 {
        let step = *rng.pick(&[1, 1, 2, -1, -2]);
        let start = rng.below(2 * n as usize + 1) as i64 - n;
        let stop = rng.below(2 * n as usize + 1) as i64 - n;
        let len = slice_len(n, start, stop, step);
        if len > 0 {
            let step_text = if step == 1 {
                String::new()
            } else {
                format!(":{step}")
            };
            return (format!("{start}:{stop}{step_text}"), len);
        }
    }
    ("::-1".to_string(), n as usize)
}

/// `SAME` or `VALID` output size of a window `k` with stride `s` over `n`.
fn window_out(n: usize, k: usize, s: usize, same: bool) -> usize {
    if same {
        n.div_ceil(s)
    } else {
        (n - k) / s + 1
    }
}

fn init(rng: &mut Rng, seed: usize) -> String {
    match rng.below(5) {
        0 => format!("he(seed={seed})"),
        1 => format!("xavier(seed={seed})"),
        2 => format!("truncated_normal(std=0.3, seed={seed})"),
        3 => format!("randn(seed={seed}, std=0.3)"),
        _ => "0.1".to_string(),
    }
}

/// A pad of an axis of `n` for `mode`: (before, after).
fn pads(rng: &mut Rng, n: usize, mode: &str) -> (usize, usize) {
    let top = match mode {
        "REFLECT" => n.saturating_sub(1),
        "SYMMETRIC" => n,
        _ => 2,
    }
    .min(2);
    (rng.below(top + 1), rng.below(top + 1))
}

/// The model's body: lets on `h` (rows of `row`), returning the features' width.
fn features(
    rng: &mut Rng,
    decls: &mut Vec<String>,
    row: &[usize],
    seed: &mut usize,
) -> (Vec<String>, usize) {
    let mut lets = Vec::new();
    let mut cur = row.to_vec();
    let mut e = "h".to_string();
    let next = |lets: &mut Vec<String>, text: String| {
        let name = format!("h{}", lets.len() + 1);
        lets.push(format!("let {name} = {text};"));
        name
    };
    if cur.len() == 3 {
        if rng.chance(1, 2) {
            let (k, s, same) = (1 + rng.below(3), 1 + rng.below(2), rng.chance(1, 2));
            if same || (k <= cur[0] && k <= cur[1]) {
                let c2 = 1 + rng.below(3);
                *seed += 1;
                decls.push(format!(
                    "variable wc: f32[{k}, {k}, {}, {c2}] = {};",
                    cur[2],
                    init(rng, *seed)
                ));
                let pad = if same { "SAME" } else { "VALID" };
                e = next(
                    &mut lets,
                    format!("relu(conv2d({e}, wc, strides={s}, padding=\"{pad}\"))"),
                );
                cur = vec![
                    window_out(cur[0], k, s, same),
                    window_out(cur[1], k, s, same),
                    c2,
                ];
            }
        }
        if rng.chance(1, 3) {
            let mode = *rng.pick(&["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"]);
            let (a, b) = pads(rng, cur[0], &mode.to_uppercase());
            let (c, d) = pads(rng, cur[1], &mode.to_uppercase());
            e = next(
                &mut lets,
                format!("pad({e}, [[0, 0], [{a}, {b}], [{c}, {d}], [0, 0]], mode=\"{mode}\")"),
            );
            cur = vec![cur[0] + a + b, cur[1] + c + d, cur[2]];
        }
        if rng.chance(1, 2) {
            let (k, same) = (1 + rng.below(3), rng.chance(1, 2));
            let s = if rng.chance(1, 3) {
                k
            } else {
                1 + rng.below(2)
            };
            if same || (k <= cur[0] && k <= cur[1]) {
                let f = *rng.pick(&["max_pool2d", "avg_pool2d"]);
                let pad = if same { "SAME" } else { "VALID" };
                let strides = if s == k && rng.chance(1, 2) {
                    String::new()
                } else {
                    format!(", {s}")
                };
                e = next(
                    &mut lets,
                    format!("{f}({e}, {k}{strides}, padding=\"{pad}\")"),
                );
                cur = vec![
                    window_out(cur[0], k, s, same),
                    window_out(cur[1], k, s, same),
                    cur[2],
                ];
            }
        }
        if rng.chance(1, 3) {
            let (text, len) = slice(rng, cur[0]);
            if rng.chance(1, 2) {
                e = next(&mut lets, format!("{e}[:, {text}, -1]"));
                cur = vec![len, cur[2]];
            } else {
                e = next(&mut lets, format!("{e}[:, {text}]"));
                cur[0] = len;
            }
        }
        e = next(&mut lets, format!("flatten({e})"));
        cur = vec![cur.iter().product()];
    }
    let mut width = cur[0];
    match rng.below(5) {
        0 => {
            let (text, len) = slice(rng, width);
            e = next(&mut lets, format!("{e}[:, {text}]"));
            width = len;
        }
        1 => {
            let n = width as i64;
            let three = rng.chance(1, 2);
            let mut idx = || (rng.below(2 * width) as i64 - n).to_string();
            let (text, len) = if three {
                (format!("[{}, {}, {}]", idx(), idx(), idx()), 3)
            } else {
                (
                    format!("[[{}, {}], [{}, {}]]", idx(), idx(), idx(), idx()),
                    4,
                )
            };
            e = next(&mut lets, format!("flatten(take({e}, {text}, axis=1))"));
            width = len;
        }
        2 => {
            let mode = *rng.pick(&["CONSTANT", "REFLECT", "SYMMETRIC"]);
            let (a, b) = pads(rng, width, mode);
            let value = if mode == "CONSTANT" && rng.chance(1, 2) {
                ", value=0.5"
            } else {
                ""
            };
            e = next(
                &mut lets,
                format!("pad({e}, [[0, 0], [{a}, {b}]]{value}, mode=\"{mode}\")"),
            );
            width += a + b;
        }
        3 => {
            e = next(&mut lets, format!("reshape({e}[:, -1], [-1, 1])"));
            width = 1;
        }
        _ => {}
    }
    if rng.chance(1, 3) {
        let hidden = 2 + rng.below(4);
        *seed += 1;
        decls.push(format!(
            "variable w1: f32[{width}, {hidden}] = {};",
            init(rng, *seed)
        ));
        decls.push("variable b1: f32[".to_string() + &format!("{hidden}] = 0.0;"));
        e = next(&mut lets, format!("tanh({e} @ w1 + b1)"));
        width = hidden;
    }
    if rng.chance(1, 3) {
        *seed += 1;
        let rate = *rng.pick(&["0.0", "0.1", "0.25", "rate", "0.5 * rate"]);
        if rate.contains("rate") {
            decls.push("placeholder rate: f32[] = 0.2;".to_string());
        }
        e = next(&mut lets, format!("dropout({e}, {rate}, seed={seed})"));
    }
    lets.push(e);
    (lets, width)
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

#[test]
fn slice_lengths_follow_python() {
    assert_eq!(slice_len(5, 0, 5, 1), 5);
    assert_eq!(slice_len(5, -1, -6, -1), 5);
    assert_eq!(slice_len(5, 4, 0, -2), 2);
    assert_eq!(slice_len(5, 3, 1, 1), 0);
    assert_eq!(slice_len(5, -2, 5, 2), 1);
    assert_eq!(slice_len(4, -4, 4, 2), 2);
}
