// A gradient of a gradient through conv2d: its backward op has no rule yet.
placeholder x: f32[1, 4, 4, 1] = randn(seed=1);
variable w: f32[2, 2, 1, 1] = 1.0;
let loss = sum(conv2d(x, w));
let dx = grad(loss, x);
let ddw = grad(sum(dx * dx), w);
