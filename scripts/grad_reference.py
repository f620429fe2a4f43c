"""Computes with JAX the gradients that tests/grad_reference.rs checks: the
programs of tests/fixtures/grad/*.td (the models of programs/*.td with every
input fed), on inputs made by the exact integer formula of
scripts/convnet_reference.py, which the Rust test repeats. Writes
tests/fixtures/grad/CASE.FETCH.npy (f32; an array of more than 4096 elements
is kept as every k-th element of its flattening, k = ceil(n / 4096)).

    python -m venv venv && venv/bin/pip install numpy jax
    venv/bin/python scripts/grad_reference.py
"""
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_default_matmul_precision", "highest")
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "grad"
KEEP = 4096


def formula(shape, seed, scale):
    """((i * 7919 + seed * 104729) mod 2001 - 1000) / 1000 * scale, exact in f64, then f32."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    v = ((i * 7919 + seed * 104729) % 2001 - 1000).astype(np.float64) / 1000.0 * scale
    return v.astype(np.float32).reshape(shape)


def feeds(spec):
    return {k: jnp.asarray(formula(*v)) for k, v in spec.items()}


def save(case, name, value):
    flat = np.asarray(value, dtype=np.float32).reshape(-1)
    if flat.size > KEEP:
        flat = flat[:: math.ceil(flat.size / KEEP)]
    np.save(OUT / f"{case}.{name}.npy", flat)


def mse(p, t):
    return jnp.mean((p - t) ** 2)


def two_layer_fc():
    p = feeds({"x": ((64, 32, 32, 3), 1, 1.0), "y": ((64, 10), 2, 1.0),
               "w1": ((3072, 42), 3, 0.05), "w2": ((42, 10), 4, 0.2)})

    def loss(w1, w2):
        h = jax.nn.relu(p["x"].reshape(64, -1) @ w1)
        return mse(h @ w2, p["y"])

    g = jax.grad(loss, argnums=(0, 1))(p["w1"], p["w2"])
    save("two_layer_fc", "d_w1", g[0])
    save("two_layer_fc", "d_w2", g[1])


def conv(x, w):
    return jax.lax.conv_general_dilated(
        x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST)


def convnet():
    p = feeds({"x": ((64, 32, 32, 3), 1, 1.0), "conv_w1": ((5, 5, 3, 6), 2, 0.2),
               "conv_b1": ((6,), 3, 0.1), "conv_w2": ((3, 3, 6, 9), 4, 0.2),
               "conv_b2": ((9,), 5, 0.1), "fc_w": ((9216, 10), 6, 0.02),
               "fc_b": ((10,), 7, 0.1)})
    labels = jax.nn.one_hot(np.argmax(formula((64, 10), 8, 1.0), axis=1), 10)
    names = ["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"]

    def loss(params):
        q = dict(zip(names, params))
        x = jnp.pad(p["x"], ((0, 0), (2, 2), (2, 2), (0, 0)))
        h1 = jax.nn.relu(conv(x, q["conv_w1"]) + q["conv_b1"])
        h1 = jnp.pad(h1, ((0, 0), (1, 1), (1, 1), (0, 0)))
        h2 = jax.nn.relu(conv(h1, q["conv_w2"]) + q["conv_b2"])
        scores = h2.reshape(64, -1) @ q["fc_w"] + q["fc_b"]
        return jnp.mean(-jnp.sum(labels * jax.nn.log_softmax(scores), axis=1))

    g = jax.grad(loss)([p[n] for n in names])
    for n, v in zip(names, g):
        save("convnet", f"d_{n}", v)


def cond_case(scale, square):
    x = jnp.asarray(formula((4,), 11, scale))

    def loss(x):
        y = jax.lax.cond(square, lambda: x * x, lambda: -x)
        total = jnp.sum(y)
        scaled = jax.lax.cond(total > 10.0, lambda: (total / 2.0) ** 2, lambda: total * 2.0)
        pick = jax.lax.cond(jnp.max(x) > 2.0, lambda: jnp.max(x), lambda: jnp.min(x))
        return scaled + pick

    save(f"cond_{int(scale)}_{str(square).lower()}", "d_x", jax.grad(loss)(x))


def rnn():
    p = feeds({"xs": ((16, 8, 4), 21, 1.0), "h0": ((8, 32), 22, 0.5),
               "target": ((8, 1), 23, 1.0), "wx": ((4, 32), 24, 0.3),
               "wh": ((32, 32), 25, 0.2), "b": ((32,), 26, 0.1), "wo": ((32, 1), 27, 0.3)})
    names = ["wx", "wh", "b", "wo", "h0", "xs"]

    def loss(wx, wh, b, wo, h0, xs):
        def cell(h, x):
            return jnp.tanh(x @ wx + h @ wh + b), None

        h, _ = jax.lax.scan(cell, h0, xs)
        return mse(h @ wo, p["target"])

    g = jax.grad(loss, argnums=tuple(range(6)))(*[p[n] for n in names])
    for n, v in zip(names, g):
        save("rnn", f"d_{n}", v)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    two_layer_fc()
    convnet()
    for scale in (1.0, 5.0):
        for square in (True, False):
            cond_case(scale, square)
    rnn()
    print("wrote", sorted(p.name for p in OUT.glob("*.npy")))


if __name__ == "__main__":
    main()
