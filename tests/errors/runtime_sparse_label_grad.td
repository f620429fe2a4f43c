// args: run --backend interp
placeholder x: f32[3, 4] = randn(seed=1);
placeholder labels: i32[3] = [0, 1, -1];
variable w: f32[4, 4] = he(seed=2);
let loss = sparse_softmax_cross_entropy(x @ w, labels);
let train = minimize(loss, sgd(0.1));
run train;
