// args: run
placeholder a: f32[3] = [1.0, 2.0, 3.0];
placeholder i: i32[] = 7;
let r = a[i];
run r;
