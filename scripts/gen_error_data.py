"""Writes the small .npy files that tests/errors/*.td feed or load.

Run once with NumPy (`python scripts/gen_error_data.py`); the outputs are checked in,
so `cargo test` never needs Python.
"""
import numpy as np
from pathlib import Path

out = Path(__file__).resolve().parent.parent / "tests" / "errors" / "data"
out.mkdir(parents=True, exist_ok=True)
np.save(out / "f64_2x2.npy", np.ones((2, 2), dtype=np.float64))
np.save(out / "f32_3x2.npy", np.ones((3, 2), dtype=np.float32))
np.save(out / "complex.npy", np.ones((2, 2), dtype=np.complex64))
good = (out / "f32_3x2.npy").read_bytes()
(out / "truncated.npy").write_bytes(good[: len(good) - 7])
(out / "not_npy.npy").write_text("this is not a numpy file\n")
# Feeds whose values do not convert to the declared dtype.
np.save(out / "frac_2x3.npy", np.array([[0, 1, 2], [3, 4, 2.5]], dtype=np.float64))
np.save(out / "i64_big.npy", np.array([1, 2, 3_000_000_000], dtype=np.int64))
