variable w: f32[3] = 1.0;
placeholder b: f64[] = 0.9;
let train = minimize(sum(w * w), adam(0.1, beta1=b));
