"""A stand-in for TF Serving's gRPC PredictionService, in-process, for the
README's gRPC example (tests/test_readme_code.py): it answers Predict by
running the named signature of one exported SavedModel, loaded with
tf.saved_model.load. Not a server to deploy: TF Serving is."""

from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc


class _Predictions(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, export_dir):
        self.model = tf.saved_model.load(export_dir)

    def Predict(self, request, context):
        signature = self.model.signatures[
            request.model_spec.signature_name or "serving_default"]
        inputs = {k: tf.constant(tf.make_ndarray(v))
                  for k, v in request.inputs.items()}
        response = predict_pb2.PredictResponse()
        for key, value in signature(**inputs).items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
        return response


class Served:
    """The running stand-in; stop() ends it and undoes the redirection."""

    def __init__(self, server, original_channel):
        self.server, self.original_channel = server, original_channel

    def stop(self, grace):
        grpc.insecure_channel = self.original_channel
        self.server.stop(grace)


def serve_locally(export_dir, address):
    """Serves export_dir on a free local port and redirects
    grpc.insecure_channel(address) there (so a client written for a real
    server at `address` reaches it)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        _Predictions(export_dir), server)
    port = server.add_insecure_port("localhost:0")
    server.start()
    original = grpc.insecure_channel

    def channel(target, *args, **kwargs):
        if target == address:
            target = f"localhost:{port}"
        return original(target, *args, **kwargs)

    grpc.insecure_channel = channel
    return Served(server, original)
