"""Data-parallel training: MirroredStrategy over two CPU devices with
model.fit (layers and a zoo model), and MultiWorkerMirroredStrategy with
two worker processes on 127.0.0.1 training a zoo model through
tfrnn.distribute.train. The replicas end with identical weights and the
loss falls."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np

WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    import keras
    from tfrnn.distribute import train
    from tfrnn.layers import GRU, LSTM
    from tfrnn.zoo import SequenceClassifier

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 9, size=(256, 12)).astype("int32")
    lengths = rng.integers(1, 13, size=256)
    x[np.arange(12)[None, :] >= lengths[:, None]] = 0
    y = (x[np.arange(256), lengths - 1] % 2).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with strategy.scope():
        if mode != "fit":  # a zoo model (a bidirectional LSTM stack)
            model = SequenceClassifier(2, vocab_size=9, units=16,
                                       bidirectional=True)
        else:
            model = keras.Sequential([
                keras.Input((None,), dtype="int32"),
                keras.layers.Embedding(9, 8, mask_zero=True),
                LSTM(16, return_sequences=True), GRU(8),
                keras.layers.Dense(2)])
        optimizer = keras.optimizers.Adam(1e-2)
    if mode.endswith("fit"):
        with strategy.scope():
            model.compile(optimizer, loss)
        history = model.fit(data, epochs=4, verbose=0).history["loss"]
    else:
        per_example = lambda t, p: keras.losses.sparse_categorical_crossentropy(
            t, p, from_logits=True)
        history = train(strategy, model, optimizer, per_example, data, 4, 32)
    replicas = [[r.numpy().tolist() for r in v.value.values]
                for v in model.trainable_variables
                if hasattr(getattr(v, "value", None), "values")]
    json.dump({"loss": history, "replicas": replicas,
               "replica_count": strategy.num_replicas_in_sync,
               "weights": [w.tolist() for w in model.get_weights()]},
              open(out, "w"))
""")


def run_worker(mode, out, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.Popen([sys.executable, "-c", WORKER, mode, str(out)],
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process):
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]


def load(path):
    with open(path) as f:
        return json.load(f)


def assert_replicas_agree(result):
    assert result["replica_count"] == 2
    for values in result["replicas"]:
        for other in values[1:]:
            np.testing.assert_array_equal(values[0], other)


def test_mirrored_strategy_fit_layers_and_zoo_model(tmp_path):
    for mode in ("fit", "zoo_fit"):
        out = tmp_path / f"{mode}.json"
        finish(run_worker(mode, out))
        result = load(out)
        assert result["replicas"], "no mirrored variables"
        assert_replicas_agree(result)
        assert result["loss"][-1] < 0.8 * result["loss"][0]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers},
                  "task": {"type": "worker", "index": index}}
        processes.append(run_worker("multi_worker", tmp_path / f"{index}.json",
                                    {"TF_CONFIG": json.dumps(config)}))
    for process in processes:
        finish(process)
    first, second = (load(tmp_path / f"{i}.json") for i in range(2))
    assert first["replica_count"] == 2
    for a, b in zip(first["weights"], second["weights"]):
        np.testing.assert_array_equal(a, b)
    assert first["loss"] == second["loss"]
    assert first["loss"][-1] < 0.8 * first["loss"][0]
    # The same training on one machine's two devices gives the same model.
    finish(run_worker("loop", tmp_path / "loop.json"))
    single = load(tmp_path / "loop.json")
    for a, b in zip(first["weights"], single["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
