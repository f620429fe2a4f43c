placeholder logits: f32[2, 3] = randn(seed=1);
placeholder targets: f32[4] = ones();
let loss = sigmoid_cross_entropy(logits, targets);
