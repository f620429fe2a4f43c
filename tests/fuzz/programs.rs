//! Grammar-aware generation of valid programs: placeholders with initialisers,
//! variables, lets of elementwise ops with broadcasting, reductions, matmul,
//! shape ops, `cond`, `fold`, `grad`, `minimize` (sgd, momentum, adam) and
//! `run ... repeat N every K`. Every value is f32 and kept in a moderate range
//! (`exp` and `log` only of bounded arguments) so that the documented
//! tolerance holds between backends.

use crate::rng::Rng;
use std::collections::BTreeSet;

/// A generated expression: its text, shape and the variables it reads.
#[derive(Clone)]
struct Expr {
    text: String,
    shape: Vec<usize>,
    vars: BTreeSet<String>,
}

struct Gen<'r> {
    rng: &'r mut Rng,
    decls: Vec<String>,
    lets: Vec<String>,
    nodes: Vec<Expr>,
    count: usize,
}

const DIMS: [usize; 7] = [1, 2, 3, 4, 5, 7, 8];

/// A whole program.
pub fn program(rng: &mut Rng) -> String {
    let mut g = Gen {
        rng,
        decls: Vec::new(),
        lets: Vec::new(),
        nodes: Vec::new(),
        count: 0,
    };
    for _ in 0..1 + g.rng.below(3) {
        let shape = g.shape();
        g.placeholder(shape);
    }
    for _ in 0..1 + g.rng.below(3) {
        let shape = g.shape();
        g.variable(shape);
    }
    g.decls.push(format!(
        "placeholder flag: bool[] = {};",
        g.rng.chance(1, 2)
    ));
    let mut fetches = Vec::new();
    for _ in 0..2 + g.rng.below(5) {
        let e = g.expr(3);
        fetches.push(g.bind(e));
    }
    let trained = g.nodes.iter().rev().find(|n| !n.vars.is_empty()).cloned();
    let mut runs = vec![format!("run {};", fetches.join(", "))];
    if let Some(n) = trained {
        g.lets.push(format!(
            "let loss = mean(tanh({t}) * tanh({t}));",
            t = n.text
        ));
        let var = n.vars.iter().next().cloned().unwrap_or_default();
        g.lets.push(format!("let dvar = grad(loss, {var});"));
        let opt = match g.rng.below(3) {
            0 => "sgd(0.1)".to_string(),
            1 => "momentum(0.05, beta=0.9)".to_string(),
            // Adam divides by the gradient's running size, so a gradient that
            // is zero but for rounding (a softmax of equal values) would take
            // full-size steps in a direction the rounding picks, differently
            // on each backend; this `eps` keeps such steps within the
            // comparison's tolerance (docs/fuzzing.md).
            _ => "adam(0.01, eps=0.01)".to_string(),
        };
        g.lets.push(format!("let train = minimize(loss, {opt});"));
        runs.push("run loss, dvar;".to_string());
        let (n, k) = (1 + g.rng.below(12), 1 + g.rng.below(5));
        runs.push(format!("run train, loss repeat {n} every {k};"));
        runs.push(format!("run {};", g.rng.pick(&fetches)));
    }
    let mut text = g.decls.join("\n");
    text.push('\n');
    text.push_str(&g.lets.join("\n"));
    text.push('\n');
    text.push_str(&runs.join("\n"));
    text.push('\n');
    text
}

impl Gen<'_> {
    fn shape(&mut self) -> Vec<usize> {
        let rank = self.rng.below(4);
        (0..rank).map(|_| *self.rng.pick(&DIMS)).collect()
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.count += 1;
        format!("{prefix}{}", self.count)
    }

    fn placeholder(&mut self, shape: Vec<usize>) -> Expr {
        let name = self.fresh("p");
        let seed = self.count;
        let init = match self.rng.below(4) {
            0 => format!("uniform(-1.0, 1.0, seed={seed})"),
            1 if shape.iter().product::<usize>() <= 8 => literal(self.rng, &shape),
            _ => format!("randn(seed={seed})"),
        };
        self.decls
            .push(format!("placeholder {name}: f32{} = {init};", dims(&shape)));
        self.node(name, shape, BTreeSet::new())
    }

    fn variable(&mut self, shape: Vec<usize>) -> Expr {
        let name = self.fresh("v");
        let seed = self.count;
        let init = match self.rng.below(3) {
            0 if shape.len() == 2 => format!("xavier(seed={seed})"),
            1 => format!("{:.2}", self.rng.float(-1.0, 1.0)),
            _ => format!("randn(seed={seed}, std=0.5)"),
        };
        self.decls
            .push(format!("variable {name}: f32{} = {init};", dims(&shape)));
        let vars = BTreeSet::from([name.clone()]);
        self.node(name, shape, vars)
    }

    fn node(&mut self, name: String, shape: Vec<usize>, vars: BTreeSet<String>) -> Expr {
        let e = Expr {
            text: name,
            shape,
            vars,
        };
        self.nodes.push(e.clone());
        e
    }

    /// Names `e` with a `let` and returns the name.
    fn bind(&mut self, e: Expr) -> String {
        let name = self.fresh("t");
        self.lets.push(format!("let {name} = {};", e.text));
        self.node(name.clone(), e.shape, e.vars);
        name
    }

    fn leaf(&mut self) -> Expr {
        let i = self.rng.below(self.nodes.len());
        self.nodes[i].clone()
    }

    /// A value of exactly `shape`: an existing node, a literal or a new input.
    fn of_shape(&mut self, shape: &[usize]) -> Expr {
        let same: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].shape == shape)
            .collect();
        if !same.is_empty() && self.rng.chance(3, 4) {
            return self.nodes[*self.rng.pick(&same)].clone();
        }
        if shape.is_empty() && self.rng.chance(1, 2) {
            let text = format!("{:.2}", self.rng.float(-2.0, 2.0));
            return Expr {
                text,
                shape: vec![],
                vars: BTreeSet::new(),
            };
        }
        if self.rng.chance(1, 2) {
            self.variable(shape.to_vec())
        } else {
            self.placeholder(shape.to_vec())
        }
    }

    /// A value that broadcasts against `shape`: a suffix, ones, or a scalar.
    fn broadcastable(&mut self, shape: &[usize]) -> Expr {
        let target: Vec<usize> = match self.rng.below(4) {
            0 => shape[self.rng.below(shape.len() + 1)..].to_vec(),
            1 => shape
                .iter()
                .map(|&d| if self.rng.chance(1, 2) { 1 } else { d })
                .collect(),
            2 => vec![],
            _ => shape.to_vec(),
        };
        self.of_shape(&target)
    }

    fn expr(&mut self, depth: usize) -> Expr {
        if depth == 0 || self.rng.chance(1, 5) {
            return self.leaf();
        }
        let a = self.expr(depth - 1);
        let rank = a.shape.len();
        match self.rng.below(12) {
            0 | 1 => {
                let f = *self
                    .rng
                    .pick(&["tanh", "sigmoid", "relu", "sin", "cos", "abs", "-"]);
                unary(a, |t| format!("{f}({t})"))
            }
            2 => match self.rng.below(3) {
                0 => unary(a, |t| format!("exp(tanh({t}))")),
                1 => unary(a, |t| format!("log(1.0 + sigmoid({t}))")),
                _ => unary(a, |t| format!("sqrt(1.0 + abs({t}))")),
            },
            3 | 4 => {
                let b = self.broadcastable(&a.shape);
                let op = *self
                    .rng
                    .pick(&["+", "-", "*", "maximum", "minimum", "where"]);
                let text = match op {
                    "maximum" | "minimum" => format!("{op}({}, {})", a.text, b.text),
                    "where" => format!("where({a} > {b}, {a}, {b})", a = a.text, b = b.text),
                    _ => format!("({} {op} {})", a.text, b.text),
                };
                join(text, a.shape.clone(), &a, &b)
            }
            5 if rank > 0 => self.reduce(a),
            6 if rank == 2 || rank == 3 => {
                let mut bs = a.shape.clone();
                bs[rank - 2] = a.shape[rank - 1];
                bs[rank - 1] = *self.rng.pick(&DIMS);
                let b = self.of_shape(&bs);
                let mut shape = a.shape.clone();
                shape[rank - 1] = bs[rank - 1];
                join(format!("tanh({} @ {})", a.text, b.text), shape, &a, &b)
            }
            7 if rank >= 1 => match self.rng.below(4) {
                0 if rank == 2 => {
                    let shape = vec![a.shape[1], a.shape[0]];
                    Expr {
                        text: format!("transpose({})", a.text),
                        shape,
                        ..a
                    }
                }
                1 => {
                    let n: usize = a.shape.iter().product();
                    Expr {
                        text: format!("reshape({}, [-1])", a.text),
                        shape: vec![n],
                        ..a
                    }
                }
                2 => {
                    let i = self.rng.below(a.shape[0]) as i64
                        - if self.rng.chance(1, 2) {
                            a.shape[0] as i64
                        } else {
                            0
                        };
                    Expr {
                        text: format!("{}[{i}]", a.text),
                        shape: a.shape[1..].to_vec(),
                        ..a
                    }
                }
                _ => {
                    let f = *self.rng.pick(&["softmax", "log_softmax"]);
                    unary(a, |t| format!("{f}({t})"))
                }
            },
            8 if rank >= 1 => {
                let axis = self.rng.below(rank);
                let mut other = a.shape.clone();
                other[axis] = *self.rng.pick(&DIMS);
                let b = self.of_shape(&other);
                let mut shape = a.shape.clone();
                shape[axis] += other[axis];
                join(
                    format!("concat([{}, {}], {axis})", a.text, b.text),
                    shape,
                    &a,
                    &b,
                )
            }
            9 => {
                let b = self.of_shape(&a.shape);
                let pred = if self.rng.chance(1, 2) {
                    "flag".to_string()
                } else {
                    format!("sum({}) > 0.0", self.leaf().text)
                };
                join(
                    format!("cond({pred}, {}, {})", a.text, b.text),
                    a.shape.clone(),
                    &a,
                    &b,
                )
            }
            10 if rank >= 1 => {
                let rest = a.shape[1..].to_vec();
                let init = self.of_shape(&rest);
                let w = self.broadcastable(&rest);
                let text = format!(
                    "fold(|acc, x| tanh(acc * 0.5 + x * {}), {}, {})",
                    w.text, init.text, a.text
                );
                let both = join(String::new(), rest, &a, &init);
                join(text, both.shape.clone(), &both, &w)
            }
            _ => a,
        }
    }

    fn reduce(&mut self, a: Expr) -> Expr {
        let f = *self.rng.pick(&["sum", "mean", "max", "min"]);
        if self.rng.chance(1, 3) {
            return Expr {
                text: format!("{f}({})", a.text),
                shape: vec![],
                ..a
            };
        }
        let rank = a.shape.len();
        let axis = self.rng.below(rank);
        let keep = self.rng.chance(1, 2);
        let mut shape = a.shape.clone();
        if keep {
            shape[axis] = 1;
        } else {
            shape.remove(axis);
        }
        let written = if self.rng.chance(1, 2) {
            axis as i64
        } else {
            axis as i64 - rank as i64
        };
        let text = format!("{f}({}, axis={written}, keepdims={keep})", a.text);
        Expr { text, shape, ..a }
    }
}

fn unary(a: Expr, f: impl Fn(&str) -> String) -> Expr {
    Expr {
        text: f(&a.text),
        ..a
    }
}

fn join(text: String, shape: Vec<usize>, a: &Expr, b: &Expr) -> Expr {
    let vars = a.vars.union(&b.vars).cloned().collect();
    Expr { text, shape, vars }
}

fn dims(shape: &[usize]) -> String {
    let d: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", d.join(", "))
}

/// A nested array literal of `shape` with two-decimal values.
fn literal(rng: &mut Rng, shape: &[usize]) -> String {
    match shape.split_first() {
        None => format!("{:.2}", rng.float(-1.0, 1.0)),
        Some((&n, rest)) => {
            let items: Vec<String> = (0..n).map(|_| literal(rng, rest)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}
