placeholder x: f32[1, 8, 8, 3] = zeros();
variable w: f32[3, 3, 4, 8] = xavier(seed=1);
let y = conv2d(x, w);
