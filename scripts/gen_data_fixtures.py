"""Writes the tiny datasets that the dataset tests, the error corpus and
programs/tiny_classifier.td read.

Run once with NumPy (`python3 scripts/gen_data_fixtures.py`, or any
Python with NumPy); the outputs are checked in, so `cargo test` never needs Python.
"""
from pathlib import Path

import numpy as np

root = Path(__file__).resolve().parent.parent
rng = np.random.default_rng(7)


def blobs(n, seed):
    """n points of 4 features in 3 classes, separable enough to learn."""
    r = np.random.default_rng(seed)
    y = (np.arange(n) % 3).astype(np.int32)
    centres = np.array([[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]], dtype=np.float32)
    x = centres[y] + 0.5 * r.standard_normal((n, 4)).astype(np.float32)
    return x.astype(np.float32), y


# tests/fixtures/data: CLI tests
data = root / "tests" / "fixtures" / "data"
data.mkdir(parents=True, exist_ok=True)
x, y = blobs(10, 1)
np.savez(data / "tiny.npz", x=x, y=y)
np.savez_compressed(data / "tiny_compressed.npz", x=x, y=y)
np.save(data / "tiny_x.npy", x)
np.save(data / "tiny_y.npy", y)
x6, y6 = blobs(6, 2)
np.savez(data / "other.npz", x=x6, y=y6)
np.save(data / "other_x.npy", x6)
np.save(data / "feed_x7.npy", blobs(7, 3)[0])
np.savez(data / "bad_rows.npz", x=x, y=y[:9])

# tests/errors/data: the error corpus
errors = root / "tests" / "errors" / "data"
errors.mkdir(parents=True, exist_ok=True)
np.savez(errors / "tiny.npz", x=x, y=y)
np.savez(errors / "bad_rows.npz", x=x, y=y[:9])

# programs/data: the golden training program
programs = root / "programs" / "data"
programs.mkdir(parents=True, exist_ok=True)
xt, yt = blobs(24, 4)
np.savez(programs / "blobs_train.npz", x=xt, y=yt)
xv, yv = blobs(9, 5)
np.save(programs / "blobs_test_x.npy", xv)
np.save(programs / "blobs_test_y.npy", yv)

# Rows that say which row they are: tests of the batch order.
np.save(data / "rows_x.npy", np.arange(10, dtype=np.float32).reshape(10, 1))
np.save(data / "rows_y.npy", np.arange(10, dtype=np.int32))
