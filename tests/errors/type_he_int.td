// args: run
variable w: i32[3, 3] = he(seed=1);
run w;
