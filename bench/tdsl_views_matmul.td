// bench: a matmul of a column slice read in place as a band of its source:
// `x[:, 512:1536] @ w` on a 1024x2048 f32 input, 1024x1024 @ 1024x256.
placeholder x: f32[1024, 2048] = randn(seed=1);
placeholder w: f32[1024, 256] = randn(seed=2);

let y = x[:, 512:1536] @ w;

run y repeat 50 every 50;
