// `cond` computes only the taken branch; both branches are compiled.
// Try: tdsl run programs/cond.td --feed square=FILE.npy  (a bool[] .npy holding false)
placeholder x: f32[4] = [1.0, -2.0, 3.0, -4.0];
placeholder square: bool[] = true;

let y = cond(square, x * x, -x);          // elementwise square, or negation
let total = sum(y);
// Branches may be whole blocks, and may use any outer node.
let scaled = cond(total > 10.0, { let half = total / 2.0; half * half }, total * 2.0);
// A cond whose predicate is computed from data, selecting between reductions.
let pick = cond(max(x) > 2.0, max(x), min(x));

// Gradients flow through the taken branch only: 2x when squaring, -1 otherwise.
let dx = grad(total, x);
let dscaled = grad(scaled, x);

run y, total, scaled, pick, dx, dscaled;
