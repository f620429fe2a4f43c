// A dataset is not a value: a placeholder reads one of its arrays.
dataset d = load("data/tiny.npz", batch=2);
let s = d + 1.0;
