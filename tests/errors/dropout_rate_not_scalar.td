placeholder x: f32[4, 3];
placeholder r: f32[3];
let y = dropout(x, r);
