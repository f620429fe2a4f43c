// args: run --feed x=/dev/zero
placeholder x: f32[2, 3];
run x;
