placeholder x: f32[2, 3] = zeros();
let s = sum(x, axis=1, true);
