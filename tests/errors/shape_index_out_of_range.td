placeholder a: f32[2, 3] = zeros();
let r = a[5];
