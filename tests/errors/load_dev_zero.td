// Not a regular file: it would be read forever.
let y = load("/dev/zero");
run y;
