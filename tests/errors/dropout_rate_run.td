// args: run
placeholder x: f32[4, 3] = ones();
placeholder keep: f32[] = fill(-0.5);
let y = dropout(x, 1.0 - keep, seed=1);
run y;
