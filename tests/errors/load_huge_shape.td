// A header declaring 400 GB with no data behind it.
let y = load("data/huge_1d.npy");
run y;
