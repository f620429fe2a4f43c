placeholder s: i32[];
let z = random_uniform([3], 0, 1, seed=s);
