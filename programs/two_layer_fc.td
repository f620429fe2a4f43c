// The classic affine -> ReLU -> affine network of the language reference.
// Until autodiff lands (issue 3) this runs the forward pass only: it prints the
// scores and the loss. The training lines of the reference follow once `grad`
// exists.
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

run scores, loss;
