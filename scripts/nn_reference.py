"""Computes with TensorFlow the values that tests/nn_reference.rs checks: every
`let` of tests/fixtures/nn/nn.td (SAME and VALID max and average pooling,
sparse and sigmoid cross-entropy, and their gradients), in f64, on the inputs
written beside them. Writes tests/fixtures/nn/input.NAME.npy and
tests/fixtures/nn/NAME.npy.

    python -m venv venv && venv/bin/pip install numpy tensorflow
    venv/bin/python scripts/nn_reference.py
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "nn"


def formula(shape, seed, scale):
    """((i * 7919 + seed * 104729) mod 2001 - 1000) / 1000 * scale, in f64."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    v = ((i * 7919 + seed * 104729) % 2001 - 1000).astype(np.float64) / 1000.0 * scale
    return v.reshape(shape)


def main():
    inputs = {
        "x": formula((1, 5, 6, 2), 1, 2.0),
        "logits": formula((4, 5), 2, 30.0),  # large logits: the stable forms matter
        "labels": np.array([3, 0, 4, 1], dtype=np.int32),
        "slogits": formula((3, 4), 3, 40.0),
        "targets": np.array([0.0, 1.0, 0.25, 0.9]),
    }
    for name, value in inputs.items():
        np.save(OUT / f"input.{name}.npy", value)
    out = {}
    x = tf.constant(inputs["x"])
    pools = {
        "k3_s2_same": ((3, 3), (2, 2), "SAME"),
        "k3_s2_valid": ((3, 3), (2, 2), "VALID"),
        "k2_s2_same": ((2, 2), (2, 2), "SAME"),
        "k32_s13_same": ((3, 2), (1, 3), "SAME"),
        "k4_s3_same": ((4, 4), (3, 3), "SAME"),
    }
    for case, (k, s, pad) in pools.items():
        for kind, op in (("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = op(x, k, s, pad)
                loss = 0.5 * tf.reduce_sum(y * y)
            out[f"{kind}_{case}"] = y.numpy()
            out[f"g_{kind}_{case}"] = tape.gradient(loss, x).numpy()
    logits = tf.constant(inputs["logits"])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=inputs["labels"], logits=logits
            )
        )
    out["sparse"] = loss.numpy()
    out["g_sparse"] = tape.gradient(loss, logits).numpy()
    slogits, targets = tf.constant(inputs["slogits"]), tf.constant(inputs["targets"])
    with tf.GradientTape() as tape:
        tape.watch([slogits, targets])
        z = tf.broadcast_to(targets, slogits.shape)
        loss = tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=slogits)
        )
    out["sigmoid"] = loss.numpy()
    g_logits, g_targets = tape.gradient(loss, [slogits, targets])
    out["g_sigmoid_logits"] = g_logits.numpy()
    out["g_sigmoid_targets"] = g_targets.numpy()
    for name, value in out.items():
        np.save(OUT / f"{name}.npy", np.asarray(value, dtype=np.float64))
    print(f"wrote {len(inputs)} inputs and {len(out)} references to {OUT}")


if __name__ == "__main__":
    main()
