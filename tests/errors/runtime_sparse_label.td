// args: run
placeholder logits: f32[3, 4] = randn(seed=1);
placeholder labels: i32[3] = [0, 7, 1];
let loss = sparse_softmax_cross_entropy(logits, labels);
run loss;
