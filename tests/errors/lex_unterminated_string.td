placeholder x: f32[2] = load("x.npy);
