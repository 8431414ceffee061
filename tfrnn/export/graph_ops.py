"""Which ops a SavedModel's graph uses, and whether stock TensorFlow has
them all (TF Serving loads no custom op library)."""

import os

from tensorflow.core.protobuf import saved_model_pb2


def saved_model_ops(export_dir):
    """The set of op names in every graph and function of a SavedModel."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    ops = set()
    for meta_graph in proto.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


def non_stock_ops(ops):
    """The ops that are tfrnn's own or PyFuncs (never loadable by a
    server), out of a set of op names."""
    banned = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}
    return sorted(op for op in ops if op.startswith("Tfrnn") or op in banned)


def check_stock_ops(export_dir):
    """Raises if the SavedModel at export_dir needs a non-stock op."""
    bad = non_stock_ops(saved_model_ops(export_dir))
    if bad:
        raise RuntimeError(f"the export at {export_dir} uses ops a stock "
                           f"TensorFlow server lacks: {bad}")


__all__ = ["check_stock_ops", "non_stock_ops", "saved_model_ops"]
