let a = 1.0;
let a = 2.0;
