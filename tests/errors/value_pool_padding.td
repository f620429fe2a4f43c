placeholder x: f32[1, 6, 6, 2] = randn(seed=1);
let y = avg_pool2d(x, 2, padding="FULL");
