#!/usr/bin/env python3
"""Writes the NumPy fixtures of the interpreter's tests into tests/fixtures/interp/.

Each case is a few small .npy files: the inputs and the expected output, computed
here independently of the interpreter (direct loops or NumPy built-ins, never
im2col). `cargo test` only reads the checked-in files; rerun this script (with
any Python that has NumPy) after changing a case:

    python scripts/gen_interp_fixtures.py
"""

import math
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "interp"
rng = np.random.default_rng(20261127)


def save(name, array):
    np.save(OUT / f"{name}.npy", np.array(array, order="C"))


def randn(shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---- conv2d: NHWC input, HWIO filter, explicit pads [top, bottom, left, right] ----

def same_pads(size, kernel, stride):
    """TensorFlow's SAME: output ceil(size / stride), the extra pad at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d_reference(x, w, strides, pads):
    top, bottom, left, right = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (top, bottom), (left, right), (0, 0)))
    n, h, wd, _ = xp.shape
    kh, kw, _, o = w.shape
    sh, sw = strides
    oh = (h - kh) // sh + 1 if h >= kh else 0
    ow = (wd - kw) // sw + 1 if wd >= kw else 0
    y = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            y[:, i, j, :] = np.tensordot(window, w.astype(np.float64), axes=3)
    return y


def conv_case(name, x_shape, w_shape, strides, padding, dtype=np.float32):
    x = randn(x_shape, dtype)
    w = randn(w_shape, dtype)
    if padding == "SAME":
        pads = same_pads(x_shape[1], w_shape[0], strides[0]) + same_pads(
            x_shape[2], w_shape[1], strides[1])
    else:
        pads = (0, 0, 0, 0)
    y = conv2d_reference(x, w, strides, pads).astype(dtype)
    save(f"conv_{name}_x", x)
    save(f"conv_{name}_w", w)
    save(f"conv_{name}_y", y)
    save(f"conv_{name}_meta", np.array([*strides, *pads], dtype=np.int32))


def max_pool_case(name, x_shape, size, strides):
    x = randn(x_shape)
    n, h, w, c = x_shape
    oh = (h - size[0]) // strides[0] + 1
    ow = (w - size[1]) // strides[1] + 1
    y = np.empty((n, oh, ow, c), dtype=np.float32)
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * strides[0]:i * strides[0] + size[0],
                       j * strides[1]:j * strides[1] + size[1], :]
            y[:, i, j, :] = window.max(axis=(1, 2))
    save(f"pool_{name}_x", x)
    save(f"pool_{name}_y", y)
    save(f"pool_{name}_meta", np.array([*size, *strides], dtype=np.int32))


def log_softmax_reference(x, axis):
    x = x.astype(np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.npy"):
        old.unlink()

    conv_case("valid_s1_c1", (2, 5, 5, 1), (3, 3, 1, 2), (1, 1), "VALID")
    conv_case("same_s2_c3", (2, 7, 6, 3), (3, 3, 3, 4), (2, 2), "SAME")
    conv_case("valid_s2_c5", (1, 8, 9, 5), (2, 2, 5, 3), (2, 2), "VALID")
    conv_case("same_s21_c2", (3, 17, 3, 2), (5, 1, 2, 1), (2, 1), "SAME")
    conv_case("same_s1_o17_f64", (1, 4, 4, 3), (3, 3, 3, 17), (1, 1), "SAME", np.float64)

    max_pool_case("2x2_s2", (2, 7, 9, 3), (2, 2), (2, 2))
    max_pool_case("3x3_s12", (1, 5, 6, 2), (3, 3), (1, 2))

    # Softmax family, with large offsets to exercise stability.
    x = randn((3, 17)) * 5 + np.array([[0.0], [1000.0], [-1000.0]], dtype=np.float32)
    save("softmax_a_x", x)
    save("softmax_a_y", np.exp(log_softmax_reference(x, 1)).astype(np.float32))
    save("log_softmax_a_y", log_softmax_reference(x, 1).astype(np.float32))
    x = randn((4, 3, 5), np.float64) * 3
    save("softmax_b_x", x)
    save("softmax_b_y", np.exp(log_softmax_reference(x, 1)))
    save("log_softmax_b_y", log_softmax_reference(x, 1))

    logits = randn((5, 7)) * 4
    labels = rng.random((5, 7)).astype(np.float32)
    labels /= labels.sum(axis=1, keepdims=True)
    xent = -(labels.astype(np.float64) * log_softmax_reference(logits, 1)).sum(axis=1).mean()
    save("xent_logits", logits)
    save("xent_labels", labels)
    save("xent_y", np.array(xent, dtype=np.float32))

    pred = randn((3, 17))
    target = randn((3, 17))
    mse = ((pred.astype(np.float64) - target) ** 2).mean()
    save("mse_pred", pred)
    save("mse_target", target)
    save("mse_y", np.array(mse, dtype=np.float32))

    # Batched matmul with broadcast leading axes.
    a = randn((2, 3, 4, 5))
    b = randn((5, 6))
    save("matmul_a_a", a)
    save("matmul_a_b", b)
    save("matmul_a_y", np.matmul(a.astype(np.float64), b).astype(np.float32))
    a = randn((3, 1, 4, 5), np.float64)
    b = randn((2, 5, 3), np.float64)
    save("matmul_b_a", a)
    save("matmul_b_b", b)
    save("matmul_b_y", np.matmul(a, b))

    x = randn((2, 3))
    save("pad_a_x", x)
    save("pad_a_y", np.pad(x, ((1, 2), (0, 3)), constant_values=1.5))
    x = rng.integers(-9, 9, size=(2, 1, 3)).astype(np.int32)
    save("pad_b_x", x)
    save("pad_b_y", np.pad(x, ((0, 1), (2, 0), (1, 1)), constant_values=-7))

    x = randn((2, 3, 4))
    save("transpose_x", x)
    save("transpose_y", np.transpose(x, (2, 0, 1)))

    parts = [randn((2, 3)), randn((2, 1)), randn((2, 4))]
    for k, part in enumerate(parts):
        save(f"concat_x{k}", part)
    save("concat_y", np.concatenate(parts, axis=1))

    x = randn((3, 4, 5))
    save("reduce_x", x)
    x64 = x.astype(np.float64)
    save("reduce_sum_02_keep", x64.sum(axis=(0, 2), keepdims=True).astype(np.float32))
    save("reduce_mean_1", x64.mean(axis=1).astype(np.float32))
    save("reduce_max_all", np.array(x.max(), dtype=np.float32))
    save("reduce_min_2_keep", x.min(axis=2, keepdims=True))
    save("reduce_sum_12", x64.sum(axis=(1, 2)).astype(np.float32))
    save("argmax_1", x.argmax(axis=1).astype(np.int32))

    total = sum(p.stat().st_size for p in OUT.glob("*.npy"))
    print(f"wrote {len(list(OUT.glob('*.npy')))} fixtures, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
