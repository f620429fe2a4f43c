// The array is f32[10, 4]: its rows have 4 values, not 5.
dataset d = load("data/tiny.npz", batch=2);
placeholder x: f32[?, 5] = d.x;
let s = sum(x);
