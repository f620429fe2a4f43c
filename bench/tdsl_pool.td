// bench: SAME max and average pooling (3x3, stride 2, odd sizes) and their
// gradients on a 32x63x63x16 f32 variable; one `sgd` step per iteration.
variable x: f32[32, 63, 63, 16] = randn(seed=1);

let m = max_pool2d(x, 3, 2, padding="SAME");    // f32[32, 32, 32, 16]
let a = avg_pool2d(x, 3, 2, padding="SAME");
let loss = sum(m * a);
let train = minimize(loss, sgd(0.001));

run train, loss repeat 20 every 20;
