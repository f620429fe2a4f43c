// args: run
placeholder x: f32[2, 2];
let y = x * 2.0;
run y;
