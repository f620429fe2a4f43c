// args: run --feed z=tests/errors/data/f32_3x2.npy
placeholder x: f32[2, 2] = zeros();
run x;
