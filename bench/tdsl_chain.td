// bench: sum(relu(a*b+c)*sigmoid(d)) on four 2048x2048 f32 inputs, and its value
// and gradient with respect to `a`. Fetch `s` (forward) or `s,da` (bench/compare.sh).
placeholder a: f32[2048, 2048] = randn(seed=1);
placeholder b: f32[2048, 2048] = randn(seed=2);
placeholder c: f32[2048, 2048] = randn(seed=3);
placeholder d: f32[2048, 2048] = randn(seed=4);

let s = sum(relu(a * b + c) * sigmoid(d));
let da = grad(s, a);

run s;
