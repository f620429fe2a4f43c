// Only a placeholder's size may be `?`.
variable w: f32[?, 4] = zeros();
let s = sum(w);
