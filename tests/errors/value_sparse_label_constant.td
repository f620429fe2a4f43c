placeholder logits: f32[3, 4] = randn(seed=1);
let loss = sparse_softmax_cross_entropy(logits, [0, 4, 1]);
