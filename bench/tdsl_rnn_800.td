// bench: a tanh RNN folded over 800 steps (batch 8, 4 -> 32), Adam on every weight.
// The fold's gradient is a history scan plus a reverse scan: O(T) per step.
// `tdsl run bench/tdsl_rnn_800.td --fetch train --steps N --timings --threads 1`
placeholder xs: f32[800, 8, 4] = randn(seed=1);    // time, batch, features
placeholder h0: f32[8, 32] = zeros();
placeholder target: f32[8, 1] = randn(seed=5);
variable wx: f32[4, 32] = xavier(seed=2);
variable wh: f32[32, 32] = xavier(seed=3);
variable b: f32[32] = 0.0;
variable wo: f32[32, 1] = xavier(seed=4);

fn cell(h, x) {
    tanh(x @ wx + h @ wh + b)
}

let h_final = fold(cell, h0, xs);
let loss = mean_squared_error(h_final @ wo, target);
let train = minimize(loss, adam(0.01));

run train, loss;
