// Every array of a dataset needs the same number of rows.
dataset d = load("data/bad_rows.npz", batch=2);
placeholder x: f32[?, 4] = d.x;
let s = sum(x);
