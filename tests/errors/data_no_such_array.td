// The .npz has arrays x and y only.
dataset d = load("data/tiny.npz", batch=2);
placeholder z: f32[?, 4] = d.z;
let s = sum(z);
