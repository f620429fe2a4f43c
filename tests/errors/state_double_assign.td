// args: run
variable w: f32[] = 0.0;
let t = group(assign(w, w + 1.0), assign(w, w * 2.0));
run t;
