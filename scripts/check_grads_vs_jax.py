"""Held-out gradient check: random inputs (NumPy, any seed) fed through
`tdsl run` on the models of tests/fixtures/grad/*.td, compared element by
element with JAX's gradients. Not part of `cargo test`; run it by hand:

    python -m venv venv && venv/bin/pip install numpy jax
    cargo build --release
    venv/bin/python scripts/check_grads_vs_jax.py --seed 123 [--tdsl target/release/tdsl]

An element passes when |tdsl - jax| <= 1e-4 * max(|jax|, max|jax| of its array / 10).
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grad_reference as ref  # noqa: E402  (the JAX models, shared with the fixtures)

jax.config.update("jax_default_matmul_precision", "highest")
ROOT = Path(__file__).resolve().parent.parent


def run_tdsl(tdsl, program, feeds, fetches):
    with tempfile.TemporaryDirectory() as tmp:
        args = [tdsl, "run", str(ROOT / "tests/fixtures/grad" / program)]
        for name, value in feeds.items():
            path = Path(tmp) / f"{name}.npy"
            np.save(path, value)
            args += ["--feed", f"{name}={path}"]
        args += ["--fetch", ",".join(fetches), "--out", str(Path(tmp) / "out")]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"tdsl failed on {program}:\n{done.stderr}")
        return {f: np.load(Path(tmp) / "out" / f"{f}.npy") for f in fetches}


def compare(case, ours, theirs):
    worst = 0.0
    for name, want in theirs.items():
        got = ours[name]
        want = np.asarray(want, dtype=np.float32)
        assert got.shape == want.shape, (case, name, got.shape, want.shape)
        floor = np.abs(want).max() / 10 if want.size else 0.0
        err = np.abs(got - want) / np.maximum(np.maximum(np.abs(want), floor), 1e-30)
        worst = max(worst, float(err.max()) if err.size else 0.0)
    status = "ok" if worst <= 1e-4 else "FAIL"
    print(f"{case:24s} worst relative error {worst:.2e}  {status}")
    return worst <= 1e-4


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--tdsl", default=str(ROOT / "target/release/tdsl"))
    a = parser.parse_args()
    rng = np.random.default_rng(a.seed)
    r = lambda shape, s: (rng.standard_normal(shape) * s).astype(np.float32)  # noqa: E731
    ok = True

    # Two-layer network.
    f = {"x": r((64, 32, 32, 3), 1.0), "y": r((64, 10), 1.0),
         "w1": r((3072, 42), 0.03), "w2": r((42, 10), 0.2)}
    p = {k: jnp.asarray(v) for k, v in f.items()}

    def fc_loss(w1, w2):
        h = jax.nn.relu(p["x"].reshape(64, -1) @ w1)
        return ref.mse(h @ w2, p["y"])

    g = jax.grad(fc_loss, argnums=(0, 1))(p["w1"], p["w2"])
    ok &= compare("two_layer_fc", run_tdsl(a.tdsl, "two_layer_fc.td", f, ["d_w1", "d_w2"]),
                  {"d_w1": g[0], "d_w2": g[1]})

    # Convnet.
    names = ["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"]
    f = {"x": r((64, 32, 32, 3), 1.0), "conv_w1": r((5, 5, 3, 6), 0.2),
         "conv_b1": r((6,), 0.1), "conv_w2": r((3, 3, 6, 9), 0.2), "conv_b2": r((9,), 0.1),
         "fc_w": r((9216, 10), 0.02), "fc_b": r((10,), 0.1)}
    f["labels"] = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    p = {k: jnp.asarray(v) for k, v in f.items()}

    def conv_loss(params):
        q = dict(zip(names, params))
        x = jnp.pad(p["x"], ((0, 0), (2, 2), (2, 2), (0, 0)))
        h1 = jax.nn.relu(ref.conv(x, q["conv_w1"]) + q["conv_b1"])
        h1 = jnp.pad(h1, ((0, 0), (1, 1), (1, 1), (0, 0)))
        h2 = jax.nn.relu(ref.conv(h1, q["conv_w2"]) + q["conv_b2"])
        scores = h2.reshape(64, -1) @ q["fc_w"] + q["fc_b"]
        return jnp.mean(-jnp.sum(p["labels"] * jax.nn.log_softmax(scores), axis=1))

    g = jax.grad(conv_loss)([p[n] for n in names])
    fetches = [f"d_{n}" for n in names]
    ok &= compare("convnet", run_tdsl(a.tdsl, "convnet.td", f, fetches), dict(zip(fetches, g)))

    # Cond, both branches of the first cond and of the data-dependent ones.
    for scale in (1.0, 5.0):
        for square in (True, False):
            x = r((4,), scale)

            def cond_loss(x):
                y = jax.lax.cond(square, lambda: x * x, lambda: -x)
                total = jnp.sum(y)
                scaled = jax.lax.cond(total > 10.0, lambda: (total / 2.0) ** 2,
                                      lambda: total * 2.0)
                pick = jax.lax.cond(jnp.max(x) > 2.0, lambda: jnp.max(x), lambda: jnp.min(x))
                return scaled + pick

            feeds = {"x": x, "square": np.array(square)}
            ok &= compare(f"cond scale={scale} {square}",
                          run_tdsl(a.tdsl, "cond.td", feeds, ["d_x"]),
                          {"d_x": jax.grad(cond_loss)(jnp.asarray(x))})

    # RNN over 16 steps.
    names = ["wx", "wh", "b", "wo", "h0", "xs"]
    f = {"xs": r((16, 8, 4), 1.0), "h0": r((8, 32), 0.5), "target": r((8, 1), 1.0),
         "wx": r((4, 32), 0.3), "wh": r((32, 32), 0.2), "b": r((32,), 0.1),
         "wo": r((32, 1), 0.3)}
    p = {k: jnp.asarray(v) for k, v in f.items()}

    def rnn_loss(wx, wh, b, wo, h0, xs):
        def cell(h, x):
            return jnp.tanh(x @ wx + h @ wh + b), None

        h, _ = jax.lax.scan(cell, h0, xs)
        return ref.mse(h @ wo, p["target"])

    g = jax.grad(rnn_loss, argnums=tuple(range(6)))(*[p[n] for n in names])
    fetches = [f"d_{n}" for n in names]
    ok &= compare("rnn", run_tdsl(a.tdsl, "rnn.td", f, fetches), dict(zip(fetches, g)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
