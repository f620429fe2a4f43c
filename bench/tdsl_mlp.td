// bench: MLP 784-1024-1024-10, batch 256, softmax cross-entropy, one SGD step.
// `tdsl run bench/tdsl_mlp.td --fetch train --steps N --timings` (bench/compare.sh).
placeholder x: f32[256, 784] = randn(seed=1);
variable w1: f32[784, 1024] = xavier(seed=3);
variable b1: f32[1024] = 0.0;
variable w2: f32[1024, 1024] = xavier(seed=4);
variable b2: f32[1024] = 0.0;
variable w3: f32[1024, 10] = xavier(seed=5);
variable b3: f32[10] = 0.0;

let h1 = relu(x @ w1 + b1);
let h2 = relu(h1 @ w2 + b2);
let scores = h2 @ w3 + b3;
// Random labels, made in the graph (the optimiser folds them): one-hot argmax of noise.
let y = one_hot(argmax(randn([256, 10], seed=2), 1), 10);
let loss = softmax_cross_entropy(scores, y);
let train = minimize(loss, sgd(0.01));

run train, loss;
