// bench: pad in the three modes (CONSTANT, REFLECT, SYMMETRIC) and their
// gradients on a 1024x1024 f32 variable; one `sgd` step per iteration.
variable x: f32[1024, 1024] = randn(seed=1);

let c = pad(x, [[3, 4], [5, 6]]);                       // constant 0
let r = pad(x, [[2, 2], [2, 2]], mode="REFLECT");
let s = pad(x, [[1, 0], [0, 7]], mode="SYMMETRIC");
let loss = sum(c * c) + sum(r) + sum(s * s);
let train = minimize(loss, sgd(0.00001));

run train, loss repeat 20 every 20;
