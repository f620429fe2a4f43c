let t = step(1);
