// Two-class softmax regression with a hand-written gradient:
// d loss / d logits = (softmax(logits) - labels) / batch.
placeholder x: f32[256, 2] = randn(seed=1);
let labels = cast(sum(x, axis=1) > 0.0, i32);     // class 1 when x0 + x1 > 0
let y = one_hot(labels, 2);

variable w: f32[2, 2] = 0.0;
variable b: f32[2] = 0.0;

let logits = x @ w + b;
let loss = softmax_cross_entropy(logits, y);
let accuracy = mean(cast(argmax(logits, 1) == labels, f32));
let dlogits = (softmax(logits) - y) / 256.0;
let train = group(
    assign(w, w - 0.5 * (transpose(x) @ dlogits)),
    assign(b, b - 0.5 * sum(dlogits, axis=0)),
);

run loss, accuracy;
run train, loss, accuracy repeat 100 every 25;
