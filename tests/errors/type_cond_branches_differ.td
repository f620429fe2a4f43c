placeholder p: bool[] = true;
placeholder x: f32[3] = zeros();
let b = cond(p, x, sum(x));
