// `NAME.ARRAY` must name a dataset.
dataset d = load("data/tiny.npz", batch=2);
placeholder x: f32[?, 4] = train.x;
let s = sum(x);
