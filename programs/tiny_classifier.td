// programs/tiny_classifier.td — a softmax classifier trained for 2 epochs on a
// tiny dataset (scripts/gen_data_fixtures.py): 24 training rows in batches of 8
// (3 steps an epoch, shuffled per epoch), 9 test rows fed whole.
dataset train = load("data/blobs_train.npz", batch=8, shuffle=1);
dataset test = load(x="data/blobs_test_x.npy", y="data/blobs_test_y.npy");

placeholder x: f32[?, 4] = train.x;    // ? = 8: the next minibatch each step
placeholder y: i32[?] = train.y;
placeholder tx: f32[?, 4] = test.x;    // ? = 9: every test row
placeholder ty: i32[?] = test.y;
variable w: f32[4, 3] = xavier(seed=1);
variable b: f32[3] = 0.0;

let loss = softmax_cross_entropy(x @ w + b, one_hot(y, 3));
let train_step = minimize(loss, sgd(0.5));
let accuracy = mean(cast(argmax(tx @ w + b, 1) == ty, f32));

run accuracy;
run train_step, loss epochs 2 every 1;
run accuracy, w;
