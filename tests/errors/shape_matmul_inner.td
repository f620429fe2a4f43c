placeholder a: f32[64, 3072] = zeros();
placeholder b: f32[3027, 42] = zeros();
let c = a @ b;
