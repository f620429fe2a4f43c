// args: run --max-memory 1M
let r = randn([1000000, 1], seed=2);
run r;
