placeholder x: f32[2, 3];
let y = x[0, :, 1];
run y;
