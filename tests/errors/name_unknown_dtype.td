placeholder x: f16[2, 2];
run x;
