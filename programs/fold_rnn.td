// A tanh RNN folded over 16 time steps (a loop in the graph, never unrolled),
// trained with Adam.
placeholder xs: f32[16, 8, 4] = randn(seed=1);    // time, batch, features
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
let pred = h_final @ wo;
let loss = mean_squared_error(pred, target);
// A lambda works too: the sum of every input, accumulated step by step.
let input_total = fold(|acc, x| acc + sum(x), 0.0, xs);

// Gradients flow back through all 16 iterations to the weights and the inputs.
let dwh = grad(loss, wh);
let dxs = grad(loss, xs);
let train = minimize(loss, adam(0.01));

run pred, loss, input_total, dwh, dxs;
run train, loss repeat 60 every 20;
