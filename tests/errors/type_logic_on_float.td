placeholder a: f32[] = 1.0;
let b = a && true;
