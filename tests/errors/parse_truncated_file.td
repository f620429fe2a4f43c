placeholder x: f32[64, 10] = randn(seed=1);
let y = relu(x @
