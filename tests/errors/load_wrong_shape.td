placeholder x: f32[2, 2] = load("data/f32_3x2.npy");
