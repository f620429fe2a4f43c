// A byte that is not UTF-8 on line 2.
let b = ÿ 2.0;
run b;
