placeholder n: i32[3] = zeros();
let e = exp(n);
