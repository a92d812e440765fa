"""Keras' common losses and metric functions as direct torch code, for `TorchStep`.

Each function computes what the Keras function of the same name computes on torch
(keras/src/losses/losses.py, keras/src/metrics/accuracy_metrics.py and the torch
backend's `nn.py`), for the default keyword arguments only; `loss_function` and
`metric_function` return None for anything else, and the caller then uses Keras'
own object. `tests/backend/test_torch_losses.py` compares every one with Keras.
"""

import keras
import torch
import torch.nn.functional as F


def same_rank(y_true, y_pred):
    """keras.losses.loss.squeeze_or_expand_to_same_rank(y_true, y_pred)."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred.unsqueeze(-1)
        else:
            y_true = y_true.squeeze(-1)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true.unsqueeze(-1)
        else:
            y_pred = y_pred.squeeze(-1)
    return y_true, y_pred


def _eps():
    return keras.backend.epsilon()


def _mean_squared_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true.to(y_pred.dtype), y_pred)
    return torch.square(y_true - y_pred).mean(-1)


def _mean_absolute_error(y_true, y_pred):
    y_true, y_pred = same_rank(y_true.to(y_pred.dtype), y_pred)
    return torch.abs(y_true - y_pred).mean(-1)


def _binary_crossentropy(y_true, y_pred):
    y_true, y_pred = same_rank(y_true.to(y_pred.dtype), y_pred)
    y_pred = torch.clip(y_pred, _eps(), 1.0 - _eps())
    return F.binary_cross_entropy(y_pred, y_true, reduction="none").mean(-1)


def _sparse_categorical_crossentropy(y_true, y_pred):
    if y_pred.ndim != 2:
        return None
    y_true = y_true.to(torch.long)
    if y_true.ndim == 2 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    y_pred = y_pred / torch.sum(y_pred, dim=1, keepdim=True)
    y_pred = torch.clip(y_pred, _eps(), 1.0 - _eps())
    return F.nll_loss(torch.log(y_pred), y_true, reduction="none")


def _binary_accuracy(y_true, y_pred):
    y_true, y_pred = same_rank(y_true, y_pred)
    return (y_true == (y_pred > 0.5).to(y_true.dtype)).to(torch.float32)


def _sparse_categorical_accuracy(y_true, y_pred):
    y_true = y_true.to(y_pred.dtype)
    shape = y_true.shape
    squeezed = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if squeezed:
        y_true = y_true.squeeze(-1)
    matches = (y_true == torch.argmax(y_pred, dim=-1).to(y_true.dtype)).to(torch.float32)
    if squeezed:
        matches = matches.reshape(shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


_LOSSES = {
    keras.losses.mean_squared_error: _mean_squared_error,
    keras.losses.mean_absolute_error: _mean_absolute_error,
    keras.losses.binary_crossentropy: _binary_crossentropy,
    keras.losses.sparse_categorical_crossentropy: _sparse_categorical_crossentropy,
}
_METRICS = {
    keras.metrics.mean_squared_error: _mean_squared_error,
    keras.metrics.mean_absolute_error: _mean_absolute_error,
    keras.metrics.binary_accuracy: _binary_accuracy,
    keras.metrics.sparse_categorical_accuracy: _sparse_categorical_accuracy,
}
_DEFAULTS = {
    keras.losses.binary_crossentropy: {"from_logits": False, "label_smoothing": 0.0, "axis": -1},
    keras.losses.sparse_categorical_crossentropy: {"from_logits": False, "ignore_class": None,
                                                   "axis": -1},
    keras.metrics.binary_accuracy: {"threshold": 0.5},
}


def _lowered(table, fn, kwargs):
    lowered = table.get(fn)
    defaults = _DEFAULTS.get(fn, {})
    if lowered is None or any(defaults.get(k, object()) != v for k, v in kwargs.items()):
        return None
    return lowered


def loss_function(loss):
    """`(y_true, y_pred) -> scalar` computing `loss(y_true, y_pred)` for a Keras
    `LossFunctionWrapper` with "sum_over_batch_size" reduction, or None."""
    lowered = _lowered(_LOSSES, loss.fn, loss._fn_kwargs)
    if lowered is None or loss.reduction != "sum_over_batch_size" or loss.dtype != "float32":
        return None

    def compute(y_true, y_pred):
        values = lowered(y_true.to(torch.float32), y_pred)
        if values is None:  # a shape the direct code does not cover
            return loss(y_true, y_pred)
        return values.sum() / values.numel() if values.numel() else values.sum()

    return compute


def metric_function(metric):
    """`(y_true, y_pred) -> per-sample values` of a `MeanMetricWrapper`, or None."""
    return _lowered(_METRICS, metric._fn, metric._fn_kwargs)
