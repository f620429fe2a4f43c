// args: run --feed x=tests/errors/data/huge_1d.npy
placeholder x: f32[2, 3];
run x;
