// bench: dropout after a dense layer, forward and gradient: relu(x @ w), then
// dropout at rate 0.5 on [256, 1024], a linear readout, one `sgd` step.
// `tdsl run bench/tdsl_dropout.td --steps 200 --threads 1 --timings`.
placeholder x: f32[256, 1024] = randn(seed=1);
variable w: f32[1024, 1024] = xavier(seed=2);
variable v: f32[1024, 1] = xavier(seed=3);

let h = relu(x @ w);
let d = dropout(h, 0.5, seed=4);
let loss = mean(d @ v);
let train = minimize(loss, sgd(0.001));

run train, loss repeat 200 every 200;
