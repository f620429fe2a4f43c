// args: run --feed x=tests/errors/data/f32_3x2.npy
// `x` has one `?` size; the file holds a matrix.
placeholder x: f32[?];
let s = sum(x);
run s;
