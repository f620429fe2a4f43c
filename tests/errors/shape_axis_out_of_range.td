placeholder a: f32[2, 3] = zeros();
let s = sum(a, axis=2);
