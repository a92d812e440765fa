"""`evaluate` and `predict` for zoo models on torch: Keras' loops (callbacks, progress
bar, return values), over tensors converted once, through `TorchGraph`."""

import numpy as np
import torch
from keras.src.backend.torch.trainer import TorchTrainer
from keras.src.utils.python_utils import pythonify_logs

from zoo.backend.torch_loop import (Batches, as_array_list, callback_list, defines_hooks,
                                    forward_blocker, forward_of, graph_of, inference_mode,
                                    is_array, set_plain, unsupported)
from zoo.backend.torch_step import TorchStep, compiled_blocker

SUPPORTED_EVALUATE = {"batch_size", "verbose", "callbacks", "return_dict"}
SUPPORTED_PREDICT = {"batch_size", "verbose", "callbacks"}


def evaluate_blocker(model, x, y, kwargs):
    """Why `evaluate` here would not give Keras' result, or None."""
    reason = unsupported(kwargs, SUPPORTED_EVALUATE, "evaluate")
    if reason:
        return reason
    if not is_array(x) or not is_array(y) or not len(x):
        return "x and y are not non-empty arrays"
    return TorchStep.blocker_on(model, x, y, training=False)


def evaluate(model, x, y, batch_size=None, verbose="auto", callbacks=None, return_dict=False):
    """The compiled loss and metrics on (x, y), as `keras.Model.evaluate` returns them."""
    data = Batches((x, y), batch_size)
    step = TorchStep(model, graph_of(model), training=False)
    callbacks = callback_list(model, callbacks, verbose, 1, data.count)
    hooks = defines_hooks(callbacks, "on_test_batch_begin", "on_test_batch_end")
    inference_mode(model)
    set_plain(model, "stop_evaluating", False)
    callbacks.on_test_begin()
    model.reset_metrics()
    for batch in range(data.count):
        if hooks:
            callbacks.on_test_batch_begin(batch)
        xb, yb = data(batch)
        step.test([xb], yb)
        if hooks:
            callbacks.on_test_batch_end(batch, model.get_metrics_result())
        if model.stop_evaluating:
            break
    logs = pythonify_logs(model.get_metrics_result())
    callbacks.on_test_end(logs)
    return logs if return_dict else model._flatten_metrics_in_order(logs)


def predict_blocker(model, x, kwargs):
    """Why `predict` here would not give Keras' result, or None."""
    reason = unsupported(kwargs, SUPPORTED_PREDICT, "predict")
    if reason:
        return reason
    arrays = as_array_list(x)
    if arrays is None:
        return "x is not a non-empty array (or list of arrays of one length)"
    if type(model).predict_step is not TorchTrainer.predict_step or "predict_step" in vars(model):
        return "the model has its own predict_step"
    return compiled_blocker(model) or forward_blocker(model, len(arrays))


def predict(model, x, batch_size=None, verbose="auto", callbacks=None):
    """The model's outputs on `x` as numpy arrays, as `keras.Model.predict` returns them."""
    data = Batches(as_array_list(x), batch_size)
    forward = forward_of(model)
    callbacks = callback_list(model, callbacks, verbose, 1, data.count)
    hooks = defines_hooks(callbacks, "on_predict_batch_begin", "on_predict_batch_end")
    inference_mode(model)
    set_plain(model, "stop_predicting", False)
    callbacks.on_predict_begin()
    chunks = []
    with torch.no_grad():
        for batch in range(data.count):
            if hooks:
                callbacks.on_predict_batch_begin(batch)
            outputs = forward(data(batch), training=False)
            chunks.append(outputs)
            if hooks:
                callbacks.on_predict_batch_end(batch, {"outputs": _single(outputs)})
            if model.stop_predicting:
                break
    callbacks.on_predict_end()
    arrays = [np.concatenate([c[i].cpu().numpy() for c in chunks]) if len(chunks) > 1
              else chunks[0][i].cpu().numpy() for i in range(len(chunks[0]))]
    return _single(arrays)


def _single(outputs):
    return outputs[0] if len(outputs) == 1 else list(outputs)
