// args: run --feed x=tests/errors/data/huge_2x3e12.npy
placeholder x: f32[2, 3];
run x;
