// args: run
variable w: f32[3, 3] = truncated_normal(std=-0.5, seed=1);
run w;
