placeholder a: f32[2, 3] = zeros();
let t = transpose(a, [0, 0]);
