placeholder logits: f32[3, 4] = randn(seed=1);
placeholder labels: f32[3] = zeros();
let loss = sparse_softmax_cross_entropy(logits, labels);
