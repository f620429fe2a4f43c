placeholder x: f32[4];
let y = x[1::0];
run y;
