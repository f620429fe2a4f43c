// args: run
// `epochs` counts epochs of a dataset; `s` reads none.
placeholder x: f32[3] = ones();
let s = sum(x);
run s epochs 2;
