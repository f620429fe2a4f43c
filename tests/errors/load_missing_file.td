placeholder x: f32[2, 2] = load("data/nope.npy");
