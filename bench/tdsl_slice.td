// bench: strided slices and their gradients (scatters into zeros) on a
// 1024x1024 f32 variable: a reversed, stepped view, two shifted views
// multiplied, and a column band; one `sgd` step per iteration.
variable x: f32[1024, 1024] = randn(seed=1);

let a = x[::-2, 1::2];          // f32[512, 512], rows reversed
let b = x[1::2, ::2];           // f32[512, 512]
let band = x[:, 100:900];       // f32[1024, 800]
let loss = sum(a * b) + sum(band * band) / 1000;
let train = minimize(loss, sgd(0.0001));

run train, loss repeat 20 every 20;
