"""The peers' side of bench/digits.sh: the digits MLP and convnet of
programs/digits_mlp.td and programs/digits_convnet.td, trained the same way
(batch 32, Adam with lr 3e-3, 10 epochs, the same shuffling scheme: a new permutation per
epoch, the last partial batch dropped), then the test accuracy.

    python bench/digits_peers.py keras|jax mlp|convnet

Prints `PEER MODEL accuracy A train_s T step_ms S`: T is the training loop's
wall time (the first epoch's compilation included), S the median time of one
training step after the first epoch. digits.sh times the whole process.
"""

import os
import sys
import time

PEER, MODEL = sys.argv[1], sys.argv[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
EPOCHS, BATCH = 10, 32
HIDDEN = int(os.environ.get("DIGITS_HIDDEN", "512"))
LR = float(os.environ.get("DIGITS_LR", "3e-3"))


def load(name):
    d = np.load(os.path.join(ROOT, f"digits_{name}.npz"))
    x = d["x"].astype(np.float32) / 16.0
    return x, d["y"].astype(np.int32)


(x_train, y_train), (x_test, y_test) = load("train"), load("test")
if MODEL == "convnet":
    x_train = x_train.reshape(-1, 8, 8, 1)
    x_test = x_test.reshape(-1, 8, 8, 1)
rng = np.random.default_rng(1)
steps_per_epoch = len(x_train) // BATCH


def batches(epoch):
    order = rng.permutation(len(x_train))
    for s in range(steps_per_epoch):
        rows = order[s * BATCH:(s + 1) * BATCH]
        yield x_train[rows], y_train[rows]


def report(accuracy, train_s, step_times):
    step_ms = 1000 * float(np.median(step_times)) if step_times else float("nan")
    print(f"{PEER} {MODEL} accuracy {accuracy:.4f} train_s {train_s:.3f} step_ms {step_ms:.4f}")


def keras_main():
    import tensorflow as tf

    tf.random.set_seed(1)
    L = tf.keras.layers
    if MODEL == "mlp":
        layers = [L.Input((64,)), L.Dense(HIDDEN, activation="relu", kernel_initializer="he_normal"),
                  L.Dense(10, kernel_initializer="he_normal")]
    else:
        layers = [L.Input((8, 8, 1)),
                  L.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
                  L.MaxPool2D(2),
                  L.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
                  L.Flatten(), L.Dense(10, kernel_initializer="he_normal")]
    model = tf.keras.Sequential(layers)
    model.compile(optimizer=tf.keras.optimizers.Adam(LR),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    times = []

    class StepTimer(tf.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if self.params and getattr(self, "epoch", 0) > 0:
                times.append(time.perf_counter() - self.t)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0,
              callbacks=[StepTimer()])
    train_s = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    report(accuracy, train_s, times)


def jax_main():
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(1)
    k = jax.random.split(key, 4)
    he = lambda kk, shape, fan_in: jax.random.normal(kk, shape) * np.sqrt(2.0 / fan_in)
    if MODEL == "mlp":
        params = {"w1": he(k[0], (64, HIDDEN), 64), "b1": jnp.zeros(HIDDEN),
                  "w2": he(k[1], (HIDDEN, 10), HIDDEN), "b2": jnp.zeros(10)}

        def forward(p, x):
            return jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
    else:
        params = {"c1": he(k[0], (3, 3, 1, 16), 9), "d1": jnp.zeros(16),
                  "c2": he(k[1], (3, 3, 16, 32), 144), "d2": jnp.zeros(32),
                  "w": he(k[2], (512, 10), 512), "b": jnp.zeros(10)}
        dn = ("NHWC", "HWIO", "NHWC")

        def forward(p, x):
            h = jax.lax.conv_general_dilated(x, p["c1"], (1, 1), "SAME", dimension_numbers=dn)
            h = jax.nn.relu(h + p["d1"])
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
            h = jax.lax.conv_general_dilated(h, p["c2"], (1, 1), "SAME", dimension_numbers=dn)
            h = jax.nn.relu(h + p["d2"])
            return h.reshape(h.shape[0], -1) @ p["w"] + p["b"]

    def loss_fn(p, x, y):
        logp = jax.nn.log_softmax(forward(p, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    b1, b2, eps = 0.9, 0.999, 1e-8
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)

    @jax.jit
    def step(p, m, v, t, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        lr = LR * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = jax.tree_util.tree_map(lambda p, m, v: p - lr * m / (jnp.sqrt(v) + eps), p, m, v)
        return p, m, v, loss

    times, t = [], 0
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        for x, y in batches(epoch):
            t += 1
            s = time.perf_counter()
            params, m, v, loss = step(params, m, v, float(t), x, y)
            loss.block_until_ready()
            if epoch > 0:
                times.append(time.perf_counter() - s)
    train_s = time.perf_counter() - start
    pred = jnp.argmax(forward(params, x_test), axis=1)
    report(float(jnp.mean(pred == y_test)), train_s, times)


{"keras": keras_main, "jax": jax_main}[PEER]()
