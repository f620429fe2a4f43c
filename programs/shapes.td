// A tour of the shape operations and reductions.
let a = reshape([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
let t = transpose(a);                          // f32[3, 2]
let stacked = concat([a, a * 10.0], 0);        // f32[4, 3]
let padded = pad(a, [[1, 0], [0, 2]], value=-1);
let row = a[1];                                // f32[3]
let last_row = a[-1];
let col_max = max(a, axis=0);
let row_sum = sum(a, axis=-1, keepdims=true);  // f32[2, 1]
let overall = mean(a);
let big = where(a > 3.0, a, 0.0);
let cube = reshape(a, [1, 2, 3]) @ reshape(t, [1, 3, 2]);   // batched matmul
let img = reshape([1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 1.0, 0.0, 9.0, 2.0, 6.0, 7.0, 1.0, 3.0, 2.0], [1, 4, 4, 1]);
let pooled = max_pool2d(img, 2, 2);            // f32[1, 2, 2, 1]
let probs = softmax(a);
let logp = log_softmax(a, axis=0);
let hot = one_hot([0, 2, 1], 3);
let best = argmax(a, 1);
let as_f64 = cast(a, f64) ** 2;

run t, stacked, padded, row, last_row, col_max, row_sum, overall, big, cube, pooled, probs, logp, hot, best, as_f64;
