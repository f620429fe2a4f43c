let a = b + 1.0;
let b = a * 2.0;
