// `batch` larger than the dataset's rows.
dataset d = load("data/tiny.npz", batch=11);
placeholder x: f32[?, 4] = d.x;
let s = sum(x);
