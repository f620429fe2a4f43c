// Three-layer convnet: pad 2, conv 5x5x3->6 + bias, relu; pad 1, conv 3x3x6->9
// + bias, relu; flatten; fully connected 9216->10 + bias. Trained with momentum.
placeholder x: f32[64, 32, 32, 3] = randn(seed=1);
variable conv_w1: f32[5, 5, 3, 6] = xavier(seed=2);
variable conv_b1: f32[6] = 0.0;
variable conv_w2: f32[3, 3, 6, 9] = xavier(seed=3);
variable conv_b2: f32[9] = 0.0;
variable fc_w: f32[9216, 10] = xavier(seed=4);
variable fc_b: f32[10] = 0.0;


let h1 = relu(conv2d(pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]]), conv_w1) + conv_b1);   // f32[64, 32, 32, 6]
let h2 = relu(conv2d(pad(h1, [[0, 0], [1, 1], [1, 1], [0, 0]]), conv_w2) + conv_b2);  // f32[64, 32, 32, 9]
let scores = flatten(h2) @ fc_w + fc_b;                                            // f32[64, 10]

// Random labels, made in the graph: the argmax of noise, one-hot encoded.
let labels = argmax(randn([64, 10], seed=5), 1);
let loss = softmax_cross_entropy(scores, one_hot(labels, 10));
let accuracy = mean(cast(argmax(scores, 1) == labels, f32));

let train = minimize(loss, momentum(0.01, beta=0.9));

run scores, loss, accuracy;
run train, loss repeat 6 every 2;
run loss, accuracy;
