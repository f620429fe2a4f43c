placeholder x: f32[] = 1.0;
let a = 0.0 < x < 2.0;
