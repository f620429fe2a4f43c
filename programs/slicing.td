// NumPy basic slicing, `take` and the mirror pad modes, with their gradients.
placeholder x: f64[3, 4] = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]];
placeholder k: i32[] = 2;
placeholder idx: i32[2, 2] = [[0, 3], [3, -1]];

let corner = x[1:, ::-2];            // f64[2, 2]: [[8, 6], [12, 10]]
let last_col = x[:, -1];             // f64[3]
let row_part = x[k, 1:3];            // a run-time row, then a slice: [10, 11]
let flipped = x[::-1];               // rows reversed
let one = x[-1, 0];                  // f64[]: 9
let every_other = x[0, ::2];         // [1, 3]
let empty = x[2:1];                  // f64[0, 4]
let picked = take(x, idx, axis=1);   // f64[3, 2, 2]; column 3 picked three times
let rows = take(x, [-1, 0]);         // f64[2, 4]
let reflected = pad(x, [[1, 2], [3, 1]], mode="REFLECT");       // f64[6, 8]
let symmetric = pad(x, [[0, 3], [2, 0]], mode="SYMMETRIC");     // f64[6, 6]

let loss = sum(corner * corner) + sum(picked) + sum(reflected * reflected)
         + sum(symmetric) + 2 * one;
let dx = grad(loss, x);

run corner, last_col, row_part, flipped, one, every_other, empty, picked, rows,
    reflected, symmetric, dx;
