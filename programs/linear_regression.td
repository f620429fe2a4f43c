// Linear regression by gradient descent: `minimize` differentiates the loss
// and updates every variable it depends on. Shows variables, step semantics
// and `repeat ... every`.
placeholder x: f32[128, 3] = randn(seed=1);
let w_true = [[2.0], [-3.0], [0.5]];
let y = x @ w_true + 1.0 + 0.01 * randn([128, 1], seed=2);

variable w: f32[3, 1] = 0.0;
variable b: f32[1] = 0.0;

let pred = x @ w + b;
let loss = mean_squared_error(pred, y);
let train = minimize(loss, sgd(0.1));

run loss;
run train, loss repeat 200 every 50;
run w, b;
