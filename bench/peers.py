"""The peers' side of bench/compare.sh: the same workloads in JAX, TensorFlow and NumPy.

    python bench/peers.py PEER THREADS WORKLOAD...

PEER is jax, tf, tf-xla or numpy; THREADS (1 or 2) sets the libraries' own thread
pools (compare.sh also pins the process with taskset). Prints one line per
workload, `PEER WORKLOAD VALUE` (milliseconds, or GFLOP/s for `matmul`), or
`PEER WORKLOAD skip REASON`. Exits 3 if the peer cannot be imported.

Every workload computes what its tdsl program in bench/ computes, on inputs of the
same shapes and distributions; each is compiled (traced) before timing, and the
median over several steps is reported.
"""

import os
import statistics
import sys
import time

PEER = sys.argv[1]
THREADS = int(sys.argv[2])
WORKLOADS = sys.argv[3:]

# Thread pools must be configured before the libraries are imported.
if THREADS == 1:
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
        " intra_op_parallelism_threads=1"
    ).strip()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

try:
    import numpy as np
except ImportError as err:
    print(f"{PEER} cannot be imported: {err}", file=sys.stderr)
    sys.exit(3)

REPS = {"fc": 200, "convnet": 10, "mlp": 20, "chain": 20, "chain_grad": 10, "matmul": 20}


def median_ms(step, reps):
    """Runs `step` once to warm up (compile), then `reps` times; median in ms."""
    step()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def inputs(seed=0):
    rng = np.random.default_rng(seed)

    def randn(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    def glorot(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)

    def one_hot(n, k):
        return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]

    return randn, glorot, one_hot


def data(workload):
    """Inputs and initial parameters of each workload, as NumPy arrays."""
    randn, glorot, one_hot = inputs()
    if workload == "fc":
        return dict(x=randn(64, 32, 32, 3), y=randn(64, 10)), [glorot(3072, 42), glorot(42, 10)]
    if workload == "convnet":
        params = [randn(5, 5, 3, 6) * 0.1, np.zeros(6, np.float32), randn(3, 3, 6, 9) * 0.1,
                  np.zeros(9, np.float32), glorot(9216, 10), np.zeros(10, np.float32)]
        return dict(x=randn(64, 32, 32, 3), y=one_hot(64, 10)), params
    if workload == "mlp":
        params = [glorot(784, 1024), np.zeros(1024, np.float32), glorot(1024, 1024),
                  np.zeros(1024, np.float32), glorot(1024, 10), np.zeros(10, np.float32)]
        return dict(x=randn(256, 784), y=one_hot(256, 10)), params
    if workload in ("chain", "chain_grad"):
        return dict(a=randn(2048, 2048), b=randn(2048, 2048), c=randn(2048, 2048),
                    d=randn(2048, 2048)), []
    if workload == "matmul":
        return dict(a=randn(1024, 1024), b=randn(1024, 1024)), []
    raise SystemExit(f"unknown workload {workload}")


def report(workload, value):
    print(f"{PEER} {workload} {value:.4f}", flush=True)


def skip(workload, reason):
    print(f"{PEER} {workload} skip {reason}", flush=True)


def guarded(workload, run):
    """Runs one workload; an error skips it (with the reason) instead of the rest."""
    try:
        run(workload)
    except ImportError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure of a peer is reported, not fatal
        skip(workload, f"{type(err).__name__}: {err}".replace("\n", " ")[:200])


MATMUL_FLOP = 2 * 1024**3


def report_compile(workload, jitted, *args):
    """JAX: tracing and compiling a jitted step, in ms (`compile_WORKLOAD`)."""
    start = time.perf_counter()
    jitted.lower(*args).compile()
    report(f"compile_{workload}", (time.perf_counter() - start) * 1e3)


def run_jax():
    import jax
    import jax.numpy as jnp
    from jax import lax

    def fc_loss(p, x, y):
        h = jax.nn.relu(x.reshape(64, -1) @ p[0])
        return jnp.mean((h @ p[1] - y) ** 2)

    def convnet_scores(p, x):
        dn = ("NHWC", "HWIO", "NHWC")
        h = lax.conv_general_dilated(x, p[0], (1, 1), [(2, 2), (2, 2)], dimension_numbers=dn)
        h = jax.nn.relu(h + p[1])
        h = lax.conv_general_dilated(h, p[2], (1, 1), [(1, 1), (1, 1)], dimension_numbers=dn)
        h = jax.nn.relu(h + p[3])
        return h.reshape(64, -1) @ p[4] + p[5]

    def xent(scores, y):
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(scores), axis=1))

    def mlp_loss(p, x, y):
        h = jax.nn.relu(x @ p[0] + p[1])
        h = jax.nn.relu(h @ p[2] + p[3])
        return xent(h @ p[4] + p[5], y)

    def sgd(loss):
        @jax.jit
        def step(p, x, y):
            value, g = jax.value_and_grad(loss)(p, x, y)
            return [w - 0.01 * gw for w, gw in zip(p, g)], value
        return step

    @jax.jit
    def convnet_step(p, m, x, y):
        value, g = jax.value_and_grad(lambda p: xent(convnet_scores(p, x), y))(p)
        m = [0.9 * mw + gw for mw, gw in zip(m, g)]
        return [w - 0.01 * mw for w, mw in zip(p, m)], m, value

    def chain(a, b, c, d):
        return jnp.sum(jax.nn.relu(a * b + c) * jax.nn.sigmoid(d))

    def jax_workload(workload):
        feeds, params = data(workload)
        feeds = {k: jnp.asarray(v) for k, v in feeds.items()}
        state = {"p": [jnp.asarray(w) for w in params]}
        if workload in ("fc", "mlp"):
            step_fn = sgd(fc_loss if workload == "fc" else mlp_loss)
            if workload == "fc":
                report_compile(workload, step_fn, state["p"], feeds["x"], feeds["y"])

            def step():
                state["p"], value = step_fn(state["p"], feeds["x"], feeds["y"])
                value.block_until_ready()
        elif workload == "convnet":
            state["m"] = [jnp.zeros_like(w) for w in state["p"]]
            report_compile(workload, convnet_step, state["p"], state["m"], feeds["x"], feeds["y"])

            def step():
                state["p"], state["m"], value = convnet_step(state["p"], state["m"],
                                                             feeds["x"], feeds["y"])
                value.block_until_ready()
        elif workload == "chain":
            fn = jax.jit(chain)

            def step():
                fn(**feeds).block_until_ready()
        elif workload == "chain_grad":
            fn = jax.jit(jax.value_and_grad(chain))

            def step():
                jax.block_until_ready(fn(feeds["a"], feeds["b"], feeds["c"], feeds["d"]))
        elif workload == "matmul":
            fn = jax.jit(jnp.matmul)

            def step():
                fn(feeds["a"], feeds["b"]).block_until_ready()
        ms = median_ms(step, REPS[workload])
        report(workload, MATMUL_FLOP / ms / 1e6 if workload == "matmul" else ms)

    for workload in WORKLOADS:
        guarded(workload, jax_workload)


def run_tf(xla):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)

    def xent(scores, y):
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=scores))

    def fc_loss(p, x, y):
        h = tf.nn.relu(tf.reshape(x, (64, -1)) @ p[0])
        return tf.reduce_mean((h @ p[1] - y) ** 2)

    def convnet_loss(p, x, y):
        h = tf.nn.relu(tf.nn.conv2d(x, p[0], 1, [[0, 0], [2, 2], [2, 2], [0, 0]]) + p[1])
        h = tf.nn.relu(tf.nn.conv2d(h, p[2], 1, [[0, 0], [1, 1], [1, 1], [0, 0]]) + p[3])
        return xent(tf.reshape(h, (64, -1)) @ p[4] + p[5], y)

    def mlp_loss(p, x, y):
        h = tf.nn.relu(x @ p[0] + p[1])
        h = tf.nn.relu(h @ p[2] + p[3])
        return xent(h @ p[4] + p[5], y)

    def chain(a, b, c, d):
        return tf.reduce_sum(tf.nn.relu(a * b + c) * tf.sigmoid(d))

    def tf_workload(workload):
        feeds, params = data(workload)
        feeds = {k: tf.constant(v) for k, v in feeds.items()}
        p = [tf.Variable(w) for w in params]
        if workload in ("fc", "mlp", "convnet"):
            loss = {"fc": fc_loss, "mlp": mlp_loss, "convnet": convnet_loss}[workload]
            m = [tf.Variable(tf.zeros_like(w)) for w in p]

            @tf.function(jit_compile=xla)
            def train(x, y, loss=loss, p=p, m=m, momentum=workload == "convnet"):
                with tf.GradientTape() as tape:
                    value = loss(p, x, y)
                for w, mw, g in zip(p, m, tape.gradient(value, p)):
                    if momentum:
                        mw.assign(0.9 * mw + g)
                        w.assign_sub(0.01 * mw)
                    else:
                        w.assign_sub(0.01 * g)
                return value

            def step(train=train):
                train(feeds["x"], feeds["y"]).numpy()
        elif workload == "chain":
            fn = tf.function(chain, jit_compile=xla)

            def step(fn=fn):
                fn(**feeds).numpy()
        elif workload == "chain_grad":
            @tf.function(jit_compile=xla)
            def value_and_grad(a, b, c, d):
                with tf.GradientTape() as tape:
                    tape.watch(a)
                    value = chain(a, b, c, d)
                return value, tape.gradient(value, a)

            def step(fn=value_and_grad):
                value, grad = fn(**feeds)
                value.numpy(), grad.numpy()
        elif workload == "matmul":
            fn = tf.function(tf.matmul, jit_compile=xla)

            def step(fn=fn):
                fn(feeds["a"], feeds["b"]).numpy()
        ms = median_ms(step, REPS[workload])
        report(workload, MATMUL_FLOP / ms / 1e6 if workload == "matmul" else ms)

    for workload in WORKLOADS:
        guarded(workload, tf_workload)


def run_numpy():
    for workload in WORKLOADS:
        if workload != "matmul":
            skip(workload, "only matmul is timed in NumPy")
            continue
        feeds, _ = data(workload)
        ms = median_ms(lambda: feeds["a"] @ feeds["b"], REPS[workload])
        report(workload, MATMUL_FLOP / ms / 1e6)


def one_fc_step():
    """`python bench/peers.py jax 1 oneshot`: import JAX, run one FC step, exit."""
    import jax
    import jax.numpy as jnp

    feeds, params = data("fc")

    @jax.jit
    def step(p, x, y):
        def loss(p):
            h = jax.nn.relu(x.reshape(64, -1) @ p[0])
            return jnp.mean((h @ p[1] - y) ** 2)
        value, g = jax.value_and_grad(loss)(p)
        return [w - 0.01 * gw for w, gw in zip(p, g)], value

    _, value = step(params, feeds["x"], feeds["y"])
    value.block_until_ready()


def main():
    try:
        if WORKLOADS == ["oneshot"]:
            one_fc_step()
        elif PEER == "jax":
            run_jax()
        elif PEER in ("tf", "tf-xla"):
            run_tf(PEER == "tf-xla")
        elif PEER == "numpy":
            run_numpy()
        else:
            raise SystemExit(f"unknown peer {PEER}")
    except ImportError as err:
        print(f"{PEER} cannot be imported: {err}", file=sys.stderr)
        sys.exit(3)


main()
