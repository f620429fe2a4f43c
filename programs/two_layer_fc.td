// programs/two_layer_fc.td — the classic affine -> ReLU -> affine network
placeholder x: f32[64, 32, 32, 3] = randn(seed=1);   // default feed; --feed overrides it
placeholder y: f32[64, 10] = randn(seed=2);
variable w1: f32[3072, 42] = xavier(seed=3);
variable w2: f32[42, 10] = xavier(seed=4);

fn two_layer_fc(x, w1, w2) {
    let h = relu(flatten(x) @ w1);   // hidden layer, f32[64, 42]
    h @ w2                           // scores, f32[64, 10]
}

let scores = two_layer_fc(x, w1, w2);
let loss = mean_squared_error(scores, y);
let dw1 = grad(loss, w1);
let dw2 = grad(loss, w2);            // one backward pass serves both grads
let train = group(assign(w1, w1 - 0.01 * dw1), assign(w2, w2 - 0.01 * dw2));
// the same update, as sugar:  let train = minimize(loss, sgd(0.01));

run scores, loss;                     // one step, print both
run train, loss repeat 100 every 10;  // 100 steps, print loss every 10 steps
