"""Writes the small .npy/.npz files that tests/feeds.rs feeds to tdsl, in
dtypes other than the declared ones (TF1 feed_dict conversions).

Run once with NumPy (`python3 scripts/gen_feed_fixtures.py`); the
outputs are checked in, so `cargo test` never needs Python.
"""
import numpy as np
from pathlib import Path

out = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "feeds"
out.mkdir(parents=True, exist_ok=True)

# Convert: u8 labels to i32, f64 features to f32, bool to f32, big-endian i16.
np.save(out / "labels_u8.npy", np.array([0, 1, 2, 3], dtype=np.uint8))
np.save(out / "x_f64.npy", np.array([[0.5, 1.5], [2.5, 3.25]], dtype=np.float64))
np.save(out / "mask_bool.npy", np.array([[True, False], [False, True]]))
np.save(out / "x_i16_be.npy", np.array([[1, -2], [3, 4]], dtype=">i2"))
np.save(out / "x_fortran_u16.npy", np.asfortranarray(np.array([[1, 2], [3, 4]], dtype=np.uint16)))
np.save(out / "lr_f64.npy", np.array(0.5, dtype=np.float64))

# Refused: a fraction into i32, an out-of-range integer, a string array.
np.save(out / "labels_frac.npy", np.array([[0, 1, 2], [3, 4, 2.5]], dtype=np.float64))
np.save(out / "labels_big.npy", np.array([0, 1, 2, 3_000_000_000], dtype=np.int64))
np.save(out / "strings.npy", np.array(["a", "bc"]))

# Archives: savez (stored) and savez_compressed (deflated).
x = np.array([[0.5, 1.5], [2.5, 3.25]], dtype=np.float64)
y = np.array([0, 1, 2, 3], dtype=np.uint8)
np.savez(out / "data.npz", x=x, y=y)
np.savez_compressed(out / "data_compressed.npz", x=x, y=y)
