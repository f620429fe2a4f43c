placeholder x: f32[3] = zeros();
let t = assign(x, x * 2.0);
