// The array `y` holds i32 labels.
dataset d = load("data/tiny.npz", batch=2);
placeholder y: f32[?] = d.y;
let s = sum(y);
