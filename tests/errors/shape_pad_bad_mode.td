placeholder x: f32[2, 3];
let y = pad(x, [[1, 1], [0, 1]], mode="WRAP");
run y;
