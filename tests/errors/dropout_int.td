placeholder n: i32[4];
let y = dropout(n, 0.5);
