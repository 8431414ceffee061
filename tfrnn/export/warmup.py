"""TF Serving warmup requests: `assets.extra/tf_serving_warmup_requests`, a
TFRecord file of tensorflow.serving.PredictionLog protos that the server
replays before it marks a version available, so the first real request
does not pay for graph optimisation.

The few fields needed are written directly in protobuf wire format (the
tensorflow-serving-api package pins the full `tensorflow` package, which
clashes with tensorflow-cpu): PredictionLog.predict_log (6) ->
PredictLog.request (1) -> PredictRequest{model_spec (1): ModelSpec{name
(1), signature_name (3)}, inputs (2): map<string, TensorProto>}.
"""

import os

import tensorflow as tf

WARMUP_FILE = "tf_serving_warmup_requests"


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number, payload):
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def prediction_log(model_name, signature_name, inputs):
    """Serialized PredictionLog of one Predict request; inputs: name ->
    array-like (made into TensorProtos)."""
    spec = _field(1, model_name.encode()) + _field(3, signature_name.encode())
    request = _field(1, spec)
    for key in sorted(inputs):
        tensor = tf.make_tensor_proto(inputs[key]).SerializeToString()
        request += _field(2, _field(1, key.encode()) + _field(2, tensor))
    return _field(6, _field(1, request))


def write_warmup(export_dir, model_name, requests):
    """Writes requests [(signature_name, inputs)] to the export's
    assets.extra/tf_serving_warmup_requests."""
    directory = os.path.join(export_dir, "assets.extra")
    os.makedirs(directory, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(directory, WARMUP_FILE)) as writer:
        for signature, inputs in requests:
            writer.write(prediction_log(model_name, signature, inputs))
