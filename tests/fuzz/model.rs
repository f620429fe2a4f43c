//! The model of a generated data program (`data.rs`): the lets of a `fn
//! model(h)` body over rows of a given shape, from `conv2d`, `pad`,
//! `max_pool2d`/`avg_pool2d`, slicing, `take`, `reshape`, a `tanh` layer and
//! `dropout`, with each layer's output shape computed as TF computes it.

use crate::rng::Rng;

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

pub fn init(rng: &mut Rng, seed: usize) -> String {
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
pub fn features(
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

#[test]
fn slice_lengths_follow_python() {
    assert_eq!(slice_len(5, 0, 5, 1), 5);
    assert_eq!(slice_len(5, -1, -6, -1), 5);
    assert_eq!(slice_len(5, 4, 0, -2), 2);
    assert_eq!(slice_len(5, 3, 1, 1), 0);
    assert_eq!(slice_len(5, -2, 5, 2), 1);
    assert_eq!(slice_len(4, -4, 4, 2), 2);
}
