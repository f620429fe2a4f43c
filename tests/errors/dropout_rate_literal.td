placeholder x: f32[4, 3];
let y = dropout(x, 1.5, seed=1);
