// args: run --feed labels=tests/errors/data/frac_2x3.npy
placeholder labels: i32[2, 3];
run labels;
