// `d.x` feeds a placeholder; it is not an expression.
dataset d = load("data/tiny.npz", batch=2);
let s = sum(d.x);
