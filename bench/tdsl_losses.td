// bench: sparse softmax cross-entropy (4096 rows, 1000 classes) and sigmoid
// cross-entropy on the same logits, with their gradients; one `sgd` step per
// iteration.
variable logits: f32[4096, 1000] = randn(seed=1);
placeholder u: f32[4096] = uniform(0, 1, seed=2);
placeholder t: f32[4096, 1000] = uniform(0, 1, seed=3);

let labels = cast(u * 1000, i32);
let loss = sparse_softmax_cross_entropy(logits, labels) + sigmoid_cross_entropy(logits, t);
let train = minimize(loss, sgd(0.1));

run train, loss repeat 20 every 20;
