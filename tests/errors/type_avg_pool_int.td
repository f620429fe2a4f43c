placeholder x: i32[1, 4, 4, 1] = zeros();
let y = avg_pool2d(x, 2, padding="SAME");
