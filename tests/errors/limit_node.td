// args: check --max-memory 12K
placeholder x: f32[64, 32] = 1.0;
let y = x @ transpose(x);
run y;
