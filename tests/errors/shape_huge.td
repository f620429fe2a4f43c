placeholder x: f32[100000, 100000, 100000];
run x;
