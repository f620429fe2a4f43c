// args: run --feed x=tests/errors/data/f64_2x2.npy
placeholder x: bool[2, 2];
run x;
