let z = random_normal([2, 3], seed=1, dtype=i32);
