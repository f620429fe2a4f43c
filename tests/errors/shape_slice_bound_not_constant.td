placeholder x: f32[4, 3];
placeholder n: i32[] = 2;
let y = x[0:n];
run y;
