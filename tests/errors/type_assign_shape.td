variable w: f32[3] = 0.0;
let t = assign(w, zeros([4]));
