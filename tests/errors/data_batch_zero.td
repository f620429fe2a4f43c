// `batch=0` feeds nothing.
dataset d = load("data/tiny.npz", batch=0);
placeholder x: f32[?, 4] = d.x;
let s = sum(x);
