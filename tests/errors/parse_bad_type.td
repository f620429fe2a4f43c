placeholder x: f32[64, ten];
