// args: run --feed x=tests/errors/data/shape_overflow.npy
placeholder x: f32[2, 3];
run x;
