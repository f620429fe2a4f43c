// args: run
variable n: i32[3] = load("data/i64_big.npy");
run n;
