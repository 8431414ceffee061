"""The README's Python code runs as written.

Every ```python block of README.md (and of docs/*.md, where there are
any) is extracted and run, each in a fresh namespace in a temporary
directory, after the preamble below that defines the few names a block
assumes (data, a torch module's weights, a running TF Serving). A block
without a preamble entry fails here: write its preamble when adding one.
"""

import glob
import os
import re
import textwrap

import numpy as np
import pytest
from paths import ROOT, TESTS

DOCUMENTS = [os.path.join(ROOT, "README.md")] + sorted(
    glob.glob(os.path.join(ROOT, "docs", "*.md")))

# The preambles, by how the first line of the block they serve starts.
PREAMBLES = {
    # The API in one screen: inputs, a torch.nn.LSTM's state dict (a
    # stand-in with .state_dict(), holding what torch.nn.LSTM(16, 256,
    # num_layers=2, bidirectional=True) would), and the ops' weights.
    "import keras, tfrnn": """
        import numpy as np
        import tfrnn

        class _Tensor:
            def __init__(self, a):
                self.a = a
            def numpy(self):
                return self.a

        class _TorchLSTM:
            def state_dict(self):
                source = tfrnn.layers.StackedRNN(256, num_layers=2,
                                                 bidirectional=True)
                source.build((None, None, 16))
                return {k: _Tensor(v)
                        for k, v in source.torch_state_dict().items()}

        torch_lstm = _TorchLSTM()
        rng = np.random.default_rng(0)
        B, T, I, H = 3, 5, 16, 8
        x = rng.standard_normal((B, T, I)).astype("float32")
        x_t = x[:, 0]
        lengths = np.array([5, 2, 0], "int32")
        h0_layers = np.zeros((4, B, 256), "float32")
        h0 = h = c0 = c = np.zeros((B, H), "float32")
        def weights(gates, bias_shape):
            return (rng.standard_normal((I, gates * H)).astype("float32"),
                    rng.standard_normal((H, gates * H)).astype("float32"),
                    np.zeros(bias_shape, "float32"))
        kernel, recurrent_kernel, bias = weights(4, [4 * H])
        gru_kernel, gru_recurrent_kernel, gru_bias = weights(3, [2, 3 * H])
        rnn_kernel, rnn_recurrent_kernel, rnn_bias = weights(1, [H])
        """,
    # Input pipelines: texts, id and text documents, lengths, a dataset.
    "import tfrnn": """
        import numpy as np
        import tensorflow as tf
        texts = ["some text", "more text to learn from"] * 20
        text_docs = tf.data.Dataset.from_tensor_slices([" ".join(texts)])
        id_docs = tf.data.Dataset.from_tensor_slices(
            [np.arange(1, 302, dtype=np.int32)])
        lengths = [len(t) for t in texts]
        dataset = tf.data.Dataset.from_generator(
            lambda: (np.arange(1, n + 1, dtype=np.int32) for n in lengths),
            output_signature=tf.TensorSpec([None], tf.int32))
        """,
    # The zoo: a text, the seq2seq tasks' tokens, ids and features.
    "from tfrnn.zoo import CharLSTM": """
        import numpy as np
        text = "ROMEO: But soft, what light through yonder window breaks?"
        source_tokens = sorted(set("March 4, 1997 abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
        target_tokens = sorted(set("0123456789-"))
        source_ids = np.array([[5, 6, 7, 8], [9, 10, 0, 0]], "int32")
        features = np.zeros((2, 6), "float32")
        """,
    # Export: a zoo model (lm) and a Keras model with tfrnn layers.
    "from tfrnn.export import export_for_serving": """
        import keras
        import tensorflow as tf
        import tfrnn
        from tfrnn.zoo import CharLSTM
        lm = CharLSTM(list("ROMEabc :"), units=8, num_layers=1)
        lm(tf.zeros([1, 3], tf.int32))
        model = keras.Sequential([keras.Input((None, 3)),
                                  tfrnn.layers.LSTM(4)])
        """,
    # gRPC: a TF Serving stand-in at localhost:8500 (an in-process gRPC
    # PredictionService running the exported generate signature).
    "import grpc, tensorflow as tf": """
        import grpc
        import tensorflow as tf
        from tfrnn.export import export_for_serving
        from tfrnn.zoo import CharLSTM
        from serving_stub import serve_locally  # tests/serving_stub.py
        lm = CharLSTM(list("ROMEabc :"), units=8, num_layers=1)
        lm(tf.zeros([1, 3], tf.int32))
        served = serve_locally(export_for_serving(lm, "serving", "charlstm"),
                               "localhost:8500")
        """,
}


def python_blocks():
    for path in DOCUMENTS:
        text = open(path).read()
        for n, block in enumerate(re.findall(r"```python\n(.*?)```", text,
                                             re.DOTALL)):
            yield pytest.param(block, id=f"{os.path.basename(path)}-{n}")


@pytest.mark.parametrize("block", list(python_blocks()))
def test_block_runs_as_written(block, tmp_path, monkeypatch):
    first = block.splitlines()[0]
    keys = [k for k in PREAMBLES if first.startswith(k)]
    assert keys, (f"no preamble for the block starting {first!r}: add one "
                  f"to tests/test_readme_code.py")
    preamble = PREAMBLES[max(keys, key=len)]
    if first.startswith("import grpc"):
        pytest.importorskip("tensorflow_serving.apis.prediction_service_pb2_"
                            "grpc")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(TESTS)
    namespace = {"np": np}
    exec(compile(textwrap.dedent(preamble), "<preamble>", "exec"),
         namespace)
    try:
        exec(compile(block, "<README block>", "exec"), namespace)
    finally:
        if "served" in namespace:
            namespace["served"].stop(None)
