// A gradient of a gradient through max_pool2d: its backward op has no rule yet.
placeholder x: f32[1, 4, 4, 1] = randn(seed=1);
let loss = sum(max_pool2d(x, [2, 2], [2, 2]));
let dx = grad(loss, x);
let ddx = grad(sum(dx * x), x);
