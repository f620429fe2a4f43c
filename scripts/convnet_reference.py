"""Computes the three-layer convnet of programs/three_layer_convnet.td with JAX,
from inputs made by an exact integer formula that tests/convnet_reference.rs
repeats in Rust, and saves the scores to tests/fixtures/convnet_scores.npy.

    python -m venv venv && venv/bin/pip install numpy jax
    venv/bin/python scripts/convnet_reference.py
"""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_default_matmul_precision", "highest")


def formula(shape, seed, scale):
    """((i * 7919 + seed * 104729) mod 2001 - 1000) / 1000 * scale, exact in f64, then f32."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    v = ((i * 7919 + seed * 104729) % 2001 - 1000).astype(np.float64) / 1000.0 * scale
    return v.astype(np.float32).reshape(shape)


INPUTS = {
    "x": ((64, 32, 32, 3), 1, 1.0),
    "conv_w1": ((5, 5, 3, 6), 2, 0.2),
    "conv_b1": ((6,), 3, 0.1),
    "conv_w2": ((3, 3, 6, 9), 4, 0.2),
    "conv_b2": ((9,), 5, 0.1),
    "fc_w": ((9216, 10), 6, 0.02),
    "fc_b": ((10,), 7, 0.1),
}


def conv(x, w):
    return jax.lax.conv_general_dilated(
        x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST)


def main():
    p = {k: jnp.asarray(formula(*v)) for k, v in INPUTS.items()}
    x = jnp.pad(p["x"], ((0, 0), (2, 2), (2, 2), (0, 0)))
    h1 = jax.nn.relu(conv(x, p["conv_w1"]) + p["conv_b1"])
    h1 = jnp.pad(h1, ((0, 0), (1, 1), (1, 1), (0, 0)))
    h2 = jax.nn.relu(conv(h1, p["conv_w2"]) + p["conv_b2"])
    scores = h2.reshape(64, -1) @ p["fc_w"] + p["fc_b"]
    out = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "convnet_scores.npy", np.asarray(scores, dtype=np.float32))
    print("scores", scores.shape, float(scores.min()), float(scores.max()))


if __name__ == "__main__":
    main()
