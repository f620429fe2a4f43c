fn f(a, b) { a + b }
let c = f(1.0);
