// bench: `take` as an embedding lookup (4096 rows of a 20000x256 f32 table)
// and its scatter-add gradient; one `sgd` step per iteration.
variable table: f32[20000, 256] = randn(seed=1);
placeholder u: f32[4096] = uniform(0, 1, seed=2);

let ids = cast(u * 20000, i32);
let rows = take(table, ids);                  // f32[4096, 256]
let loss = sum(rows * rows) / 4096;
let train = minimize(loss, sgd(0.01));

run train, loss repeat 20 every 20;
