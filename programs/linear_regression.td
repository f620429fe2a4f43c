// Linear regression by gradient descent, with the gradients written by hand
// (autodiff arrives with `grad`). Shows variables, assign/group step semantics
// and `repeat ... every`.
placeholder x: f32[128, 3] = randn(seed=1);
let w_true = [[2.0], [-3.0], [0.5]];
let y = x @ w_true + 1.0 + 0.01 * randn([128, 1], seed=2);

variable w: f32[3, 1] = 0.0;
variable b: f32[1] = 0.0;

let pred = x @ w + b;
let loss = mean_squared_error(pred, y);
let err = pred - y;
let dw = 2.0 * (transpose(x) @ err) / 128.0;
let db = 2.0 * sum(err, axis=0) / 128.0;
let train = group(assign(w, w - 0.1 * dw), assign(b, b - 0.1 * db));

run loss;
run train, loss repeat 200 every 50;
run w, b;
