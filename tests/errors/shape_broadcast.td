placeholder a: f32[64, 10] = zeros();
placeholder b: f32[3, 10] = zeros();
let c = a + b;
