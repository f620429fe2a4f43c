// A small convnet on random 9x9 images with SAME convolution and pooling:
// conv 3x3x2->4 (SAME) + bias, relu, max_pool 2x2 SAME (9 -> 5), avg_pool 3x3
// stride 2 SAME (5 -> 3), flatten, fully connected 36->3. Two heads share the
// features: sparse softmax cross-entropy on integer classes, and sigmoid
// cross-entropy on two binary targets. Weights from he() and truncated_normal().
placeholder x: f32[16, 9, 9, 2] = randn(seed=1);
placeholder classes: i32[16] = [0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 1, 0, 2, 1];
placeholder flags: f32[16, 2] = uniform(0, 1, seed=6);
variable conv_w: f32[3, 3, 2, 4] = he(seed=2);
variable conv_b: f32[4] = 0.0;
variable fc_w: f32[36, 3] = truncated_normal(std=0.1, seed=3);
variable fc_b: f32[3] = 0.0;
variable flag_w: f32[36, 2] = he(seed=4);

let h = relu(conv2d(x, conv_w, padding="SAME") + conv_b);    // f32[16, 9, 9, 4]
let p1 = max_pool2d(h, 2, padding="SAME");                   // f32[16, 5, 5, 4]
let p2 = avg_pool2d(p1, 3, 2, padding="SAME");               // f32[16, 3, 3, 4]
let features = flatten(p2);                                  // f32[16, 36]
let scores = features @ fc_w + fc_b;
let class_loss = sparse_softmax_cross_entropy(scores, classes);
let flag_loss = sigmoid_cross_entropy(features @ flag_w, round_flags(flags));
let loss = class_loss + flag_loss;
let accuracy = mean(cast(argmax(scores, 1) == classes, f32));

fn round_flags(f) { cast(f > 0.5, f32) }

let train = minimize(loss, adam(0.01));

run p2, class_loss, flag_loss, accuracy;
run train, loss repeat 20 every 5;
run class_loss, flag_loss, accuracy;
