// args: run
// The array `y` holds i32 labels 0..9: they do not convert to bool. `run`:
// `check` reads no dataset values (docs/cli.md).
dataset d = load("data/tiny.npz", batch=2);
placeholder y: bool[?] = d.y;
let s = y;
