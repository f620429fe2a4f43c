placeholder a: f32[3] = zeros();
placeholder b: f64[3] = zeros();
let c = a + b;
