// bench: slices read in place by fused kernels (strided views): a
// smoothness loss over neighbouring columns of a 2048x2048 f32 input (a
// reduction over `x[:, 1:] - x[:, :-1]`) and an elementwise value over a
// reversed, stepped view and a shifted one (f32[2048, 1024]).
placeholder x: f32[2048, 2048] = randn(seed=1);

let d = x[:, 1:] - x[:, :-1];
let loss = mean(d * d);
let y = x[::-1, ::2] * 2 + x[:, 1::2];

run loss, y repeat 50 every 50;
