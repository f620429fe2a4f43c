variable w: f32[] = 0.0;
placeholder p: bool[] = true;
let t = cond(p, assign(w, 1.0), w);
