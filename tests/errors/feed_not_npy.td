// args: run --feed x=tests/errors/data/not_npy.npy
placeholder x: f32[2, 2];
run x;
