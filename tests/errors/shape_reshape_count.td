placeholder a: f32[4, 6] = zeros();
let b = reshape(a, [5, 5]);
