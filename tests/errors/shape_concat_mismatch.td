placeholder a: f32[2, 3] = zeros();
placeholder b: f32[2, 4] = zeros();
let c = concat([a, b], 0);
