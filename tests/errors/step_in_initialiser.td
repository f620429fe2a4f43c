variable start: i32[] = step();
