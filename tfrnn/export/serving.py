"""Exports for TF Serving: the directory layout it polls, written so a
server never sees half a version.

    base_dir/models.config
    base_dir/<name>/<version>/saved_model.pb, variables/, assets.extra/

A version is saved into a hidden temporary directory beside the versions
(TF Serving only loads all-digit names), checked for non-stock ops, then
renamed into place in one step.
"""

import os
import re
import shutil
import tempfile

import tensorflow as tf

from tfrnn.arguments import is_integer
from tfrnn.export.graph_ops import check_stock_ops
from tfrnn.export.signatures import has_signatures, serving_module
from tfrnn.export.warmup import write_warmup
from tfrnn.files import share
from tfrnn.ops import stock_ops_only

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def versions(model_dir):
    """The version numbers present under model_dir, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(n) for n in os.listdir(model_dir) if n.isdigit())


def _save_with_signatures(model, staging, name, warmup, signature_options):
    module, signatures, requests = serving_module(model, **signature_options)
    tf.saved_model.save(module, staging, signatures=signatures)
    if warmup:
        write_warmup(staging, name, requests)


def _save_keras_model(model, staging):
    """Any other Keras model: Keras's own export (a `serve` endpoint taking
    the model's inputs, as model.export makes it), traced with stock ops."""
    if not model.built:
        raise ValueError("build the model (call it once) before exporting it")
    with stock_ops_only():
        model.export(staging, format="tf_saved_model", verbose=False)


def _check_folder(path):
    """Raises NotADirectoryError when path, or the nearest part of it that
    exists, is a file: the export could not be written there."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise NotADirectoryError(f"{path} is a file, not a directory: the "
                                 f"export cannot go under it")


def export_for_serving(model, base_dir, name, version=None, warmup=True,
                       **signature_options):
    """Exports a Keras model as base_dir/name/<version>; returns that path.

    version: a positive integer, or None for one more than the newest.
    The SavedModel holds stock TensorFlow ops only. A model that declares
    its signatures (`serving_signatures`, as the zoo's do: strings in and
    out where the task is text, serving_default included, and warmup
    requests; tfrnn.zoo.signatures) gets those; any other Keras model gets
    Keras's `serve` signature of its inputs (and serving_default), as
    model.export makes it.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"model name {name!r}: use letters, digits, _ . -")
    model_dir = os.path.join(base_dir, name)
    _check_folder(model_dir)
    if version is None:
        version = (versions(model_dir) or [0])[-1] + 1
    if not is_integer(version) or version < 1:
        raise ValueError(f"version must be a positive integer, got "
                         f"{version!r}")
    final = os.path.join(model_dir, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"{final} exists; versions are never "
                              "overwritten")
    declared = has_signatures(model)
    if declared and not model.built:
        raise ValueError("build the model (call it once) before exporting it")
    os.makedirs(model_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_dir)
    try:
        if declared:
            _save_with_signatures(model, staging, name, warmup,
                                  signature_options)
        else:
            _save_keras_model(model, staging)
        check_stock_ops(staging)
        share(staging)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_models_config(base_dir)
    return final


def write_models_config(base_dir, serving_root="/models"):
    """base_dir/models.config listing every model directory under base_dir,
    as TF Serving's --model_config_file reads it (paths as the server sees
    them: base_dir mounted at serving_root). Replaced atomically."""
    names = sorted(n for n in os.listdir(base_dir)
                   if os.path.isdir(os.path.join(base_dir, n))
                   and versions(os.path.join(base_dir, n)))
    entries = "".join(
        f"  config {{\n    name: \"{n}\"\n    base_path: "
        f"\"{serving_root}/{n}\"\n    model_platform: \"tensorflow\"\n  }}\n"
        for n in names)
    text = f"model_config_list {{\n{entries}}}\n"
    fd, tmp = tempfile.mkstemp(prefix=".models.config.", dir=base_dir)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    share(tmp)
    os.replace(tmp, os.path.join(base_dir, "models.config"))
