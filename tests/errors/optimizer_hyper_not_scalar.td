variable w: f32[3] = 1.0;
placeholder rates: f32[3] = 0.1;
let train = minimize(sum(w * w), sgd(rates));
