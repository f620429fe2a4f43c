placeholder logits: f32[3, 4] = randn(seed=1);
placeholder labels: i32[4] = zeros();
let loss = sparse_softmax_cross_entropy(logits, labels);
