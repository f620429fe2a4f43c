placeholder xs: f32[5, 3] = zeros();
let s = fold(|acc, x| acc + x, 0.0, xs);
