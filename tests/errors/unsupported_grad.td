variable w: f32[3] = 1.0;
let loss = sum(w * w);
let dw = grad(loss, w);
