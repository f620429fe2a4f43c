placeholder p: bool[] = true;
let a = cond(p, 1.0);
