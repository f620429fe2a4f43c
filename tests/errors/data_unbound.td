// args: run
// Nothing gives `x` its size, and the step reads it.
placeholder x: f32[?, 4];
let s = sum(x);
run s;
