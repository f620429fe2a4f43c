// Per-step randomness: fresh label noise (`random_normal`) and a fresh dropout
// mask every step, and a learning rate that decays with `step()`. The values
// depend only on (seed, step, element): the same on both backends, any thread
// count and every run.
placeholder x: f32[64, 8] = randn(seed=1);
variable w1: f32[8, 32] = xavier(seed=2);
variable w2: f32[32, 1] = xavier(seed=3);

let clean = sum(x, axis=1, keepdims=true);
let noisy = clean + 0.1 * random_normal([64, 1], seed=4);   // new noise every step
let hidden = dropout(relu(x @ w1), 0.2, seed=5);             // new mask every step
let loss = mean_squared_error(hidden @ w2, noisy);
let lr = 0.05 / (1.0 + cast(step(), f32) / 100.0);
let train = group(assign(w1, w1 - lr * grad(loss, w1)), assign(w2, w2 - lr * grad(loss, w2)));

// Without dropout (rate 0 is the identity) and on the clean labels.
let eval_loss = mean_squared_error(dropout(relu(x @ w1), 0.0) @ w2, clean);
let t = step();

run t, eval_loss;
run train, loss repeat 300 every 100;
run t, lr, eval_loss;
