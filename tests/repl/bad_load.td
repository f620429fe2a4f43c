let a = 1.0;
let m = load("missing.npy") + a;
