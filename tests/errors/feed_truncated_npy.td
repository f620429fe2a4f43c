// args: run --feed x=tests/errors/data/truncated.npy
placeholder x: f32[2, 2];
run x;
