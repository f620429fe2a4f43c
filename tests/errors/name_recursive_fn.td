fn f(x) { f(x) + 1.0 }
let a = f(1.0);
