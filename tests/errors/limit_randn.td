// args: run --max-memory 1M
let r = randn([2147483647, 1], seed=2);
run r;
