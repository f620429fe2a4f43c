variable w: i32[2] = [1.5, 2.5];
