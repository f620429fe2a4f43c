// args: check --max-memory 1M
variable w: f32[1000] = 1.0;
placeholder xs: f32[1000, 1] = 0.5;
let s = fold(|acc, x| tanh(acc * w + x), w, xs);
let g = grad(sum(s), w);
run g;
