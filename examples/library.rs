//! Using tdsl as a library: compile a `.td` source string, feed `ndarray`
//! arrays, run steps and fetch results.
//!
//!     cargo run --example library

use ndarray::{array, ArrayD};
use tdsl::{compile, Diag, Session, Tensor};

const SOURCE: &str = r#"
placeholder x: f32[4, 2];
placeholder y: f32[4, 1];
variable w: f32[2, 1] = 0.0;
variable b: f32[1] = 0.0;

let pred = x @ w + b;
let loss = mean_squared_error(pred, y);
let err = pred - y;
let train = group(
    assign(w, w - 0.2 * (transpose(x) @ err) / 2.0),
    assign(b, b - 0.2 * sum(err, axis=0) / 2.0),
);
"#;

fn main() {
    if let Err(diags) = run() {
        // Diagnostics render with the source line and a caret under the span.
        for diag in diags {
            eprint!("{}", diag.render("<example>", SOURCE));
        }
        std::process::exit(1);
    }
}

fn run() -> Result<(), Vec<Diag>> {
    // Build: parse, resolve names, infer every dtype and shape.
    let module = compile(SOURCE, std::path::Path::new("."))?;
    // Steps run on the JIT (`tdsl::backend::Backend::Interp`: the interpreter).
    let engine = tdsl::engines::engine(Default::default(), Default::default());
    let mut session = Session::new(module, engine);

    // Feed: y = 3 * x0 - x1 + 0.5, as f32 ndarrays.
    let x: ArrayD<f32> = array![[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]].into_dyn();
    let y: ArrayD<f32> = array![[-0.5], [3.5], [2.5], [5.5]].into_dyn();
    session.feed("x", Tensor::F32(x)).map_err(|d| vec![d])?;
    session.feed("y", Tensor::F32(y)).map_err(|d| vec![d])?;

    // Run: fetch the loss, train for 300 steps, fetch the loss and weights again.
    let before = scalar(&session.run(&["loss"]).map_err(|d| vec![d])?[0]);
    for _ in 0..300 {
        session.run(&["train"]).map_err(|d| vec![d])?;
    }
    let after = session.run(&["loss", "w", "b"]).map_err(|d| vec![d])?;
    println!("loss before: {before:.6}");
    println!("loss after 300 steps: {:.6}", scalar(&after[0]));
    println!("w = {:?}", after[1].to_f64_vec());
    println!("b = {:?}", after[2].to_f64_vec());
    Ok(())
}

fn scalar(t: &Tensor) -> f64 {
    t.to_f64_vec().first().copied().unwrap_or(f64::NAN)
}
