// Weights read with load(), relative to this file.
variable w: f32[2] = load("x2.npy");
let d = w * 2.0;
