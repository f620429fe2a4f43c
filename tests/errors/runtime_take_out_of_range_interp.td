// args: run --backend interp
placeholder x: f32[3, 2] = [[1, 2], [3, 4], [5, 6]];
placeholder i: i32[3] = [0, -4, 1];
let y = take(x, i);
run y;
