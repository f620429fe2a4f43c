let a = 1.0
let b = 2.0;
