// A header whose shape overflows (a zero dim hides it from the element count).
placeholder x: f32[2, 3] = load("data/shape_overflow.npy");
run x;
