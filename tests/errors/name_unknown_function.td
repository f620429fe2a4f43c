placeholder x: f32[3] = zeros();
let y = rleu(x);
