// args: run --feed x=tests/errors/data/does_not_exist.npy
placeholder x: f32[2, 2];
run x;
