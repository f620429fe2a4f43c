let a = 1.0;
run a, b;
