// args: run
// One step reads two datasets whose epochs have 5 and 2 steps.
dataset a = load("data/tiny.npz", batch=2);
dataset b = load("data/tiny.npz", batch=4);
placeholder xa: f32[?, 4] = a.x;
placeholder xb: f32[?, 4] = b.x;
let s = sum(xa) + sum(xb);
run s epochs 1;
