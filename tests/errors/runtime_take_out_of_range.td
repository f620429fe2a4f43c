// args: run
placeholder x: f32[3, 2] = [[1, 2], [3, 4], [5, 6]];
placeholder i: i32[2, 2] = [[0, 1], [7, 2]];
let y = take(x, i);
run y;
