#!/usr/bin/env python3
"""Writes data/digits_train.npz and data/digits_test.npz from scikit-learn's
bundled copy of the UCI hand-written digits (1,797 8x8 images; CC BY 4.0).

Each file holds `x` (uint8[N, 64], pixel intensities 0..16, row-major 8x8) and
`y` (int64[N], the digit). The dtypes are NumPy's natural ones on purpose, so
loading them exercises tdsl's feed conversions. The split is stratified, 80/20,
with a fixed seed, so the files are reproducible:

    python3 scripts/make_digits.py        # needs numpy and scikit-learn
"""
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parent.parent / "data"


def main():
    digits = load_digits()
    x = digits.data.astype(np.uint8)  # float64 0..16 in sklearn: exact integers
    y = digits.target.astype(np.int64)
    assert x.shape == (1797, 64) and (digits.data == x).all()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=y
    )
    OUT.mkdir(exist_ok=True)
    np.savez(OUT / "digits_train.npz", x=x_train, y=y_train)
    np.savez(OUT / "digits_test.npz", x=x_test, y=y_test)
    print(f"train {x_train.shape} {y_train.shape}, test {x_test.shape} {y_test.shape}")


if __name__ == "__main__":
    main()
