// args: check --max-memory 1000
variable w: f32[1000] = 0.0;
run w;
