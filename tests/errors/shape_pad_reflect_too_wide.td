placeholder x: f32[2, 3];
let y = pad(x, [[1, 1], [0, 3]], mode="REFLECT");
run y;
