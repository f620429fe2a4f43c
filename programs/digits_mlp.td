// programs/digits_mlp.td: a two-layer perceptron on the UCI digits (data/README.md).
// The images are uint8 and the labels int64 in the files: feeds convert them.
dataset train = load("../data/digits_train.npz", batch=32, shuffle=1);
dataset test = load("../data/digits_test.npz");
placeholder x: f32[?, 64] = train.x;
placeholder y: i32[?] = train.y;
placeholder tx: f32[?, 64] = test.x;
placeholder ty: i32[?] = test.y;
variable w1: f32[64, 512] = he(seed=1);
variable b1: f32[512] = 0.0;
variable w2: f32[512, 10] = he(seed=2);
variable b2: f32[10] = 0.0;

fn mlp(x) {
    let h = relu((x / 16.0) @ w1 + b1);
    h @ w2 + b2
}

let loss = sparse_softmax_cross_entropy(mlp(x), y);
let train_step = minimize(loss, adam(0.003));
let accuracy = mean(cast(argmax(mlp(tx), 1) == ty, f32));
run train_step, loss epochs 10 every 2;
run accuracy;
