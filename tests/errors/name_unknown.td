variable w1: f32[3, 3] = 0.0;
let a = w2 * 2.0;
