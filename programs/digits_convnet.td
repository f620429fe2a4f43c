// programs/digits_convnet.td: a small convnet on the UCI digits (data/README.md).
dataset train = load("../data/digits_train.npz", batch=32, shuffle=1);
dataset test = load("../data/digits_test.npz");
placeholder x: f32[?, 64] = train.x;
placeholder y: i32[?] = train.y;
placeholder tx: f32[?, 64] = test.x;
placeholder ty: i32[?] = test.y;
variable c1: f32[3, 3, 1, 16] = he(seed=1);
variable d1: f32[16] = 0.0;
variable c2: f32[3, 3, 16, 32] = he(seed=2);
variable d2: f32[32] = 0.0;
variable w: f32[512, 10] = he(seed=3);
variable b: f32[10] = 0.0;

fn convnet(x) {
    let images = reshape(x / 16.0, [-1, 8, 8, 1]);
    let h1 = relu(conv2d(images, c1, padding="SAME") + d1);
    let p1 = max_pool2d(h1, 2, 2);
    let h2 = relu(conv2d(p1, c2, padding="SAME") + d2);
    flatten(h2) @ w + b
}

let loss = sparse_softmax_cross_entropy(convnet(x), y);
let train_step = minimize(loss, adam(0.003));
let accuracy = mean(cast(argmax(convnet(tx), 1) == ty, f32));
run train_step, loss epochs 10 every 2;
run accuracy;
