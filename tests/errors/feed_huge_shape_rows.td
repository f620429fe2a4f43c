// args: run --feed x=tests/errors/data/huge_2e9x3.npy
placeholder x: f32[2, 3];
run x;
