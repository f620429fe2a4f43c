placeholder a: f32[] = 1.0;
let b = cond(a, 1.0, 2.0);
