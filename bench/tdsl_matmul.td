// bench: a 1024x1024 @ 1024x1024 f32 matmul (2 * 1024^3 flop per step).
placeholder a: f32[1024, 1024] = randn(seed=1);
placeholder b: f32[1024, 1024] = randn(seed=2);

let c = a @ b;

run c;
