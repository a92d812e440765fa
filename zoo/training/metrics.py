"""Test metrics, computed the same way on every backend from the model's predictions.

Example:
    >>> import numpy as np
    >>> from zoo.training.metrics import METRICS
    >>> METRICS["mae"].goal
    'min'
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Metric:
    """A named test metric: `compute(model, x, y) -> float` and whether higher is better."""

    name: str
    compute: Callable
    goal: str  # "max" or "min"

    def meets(self, value, target):
        """Whether `value` reaches `target` in this metric's direction."""
        return value >= target if self.goal == "max" else value <= target


def _predictions(model, x):
    return np.asarray(model.predict(x, verbose=0, batch_size=256), dtype="float64")


def accuracy(model, x, y):
    return float(np.mean(model.predict_classes(x, batch_size=256) == np.asarray(y).reshape(-1)))


def _errors(model, x, y):
    pred = _predictions(model, x)
    return pred - np.asarray(y, dtype="float64").reshape(pred.shape)


def mae(model, x, y):
    """Mean absolute error (averaged over every output, e.g. a forecast horizon)."""
    return float(np.mean(np.abs(_errors(model, x, y))))


def rmse(model, x, y):
    return float(np.sqrt(np.mean(_errors(model, x, y) ** 2)))


def _gan_metric(name):
    def compute(model, x, y, context):
        from zoo.training import gan_metrics

        return gan_metrics.quality(model, x, context)[name]

    return compute


METRICS = {
    "accuracy": Metric("accuracy", accuracy, "max"),
    "mae": Metric("mae", mae, "min"),
    "rmse": Metric("rmse", rmse, "min"),
    "frechet_ratio": Metric("frechet_ratio", _gan_metric("frechet_ratio"), "min"),
    "conditional_accuracy": Metric("conditional_accuracy",
                                   _gan_metric("conditional_accuracy"), "max"),
}


def register_metric(metric: Metric) -> Metric:
    """Add a metric that recipes can name in `evaluate.metric`."""
    METRICS[metric.name] = metric
    return metric


def evaluate_all(model, x, y, primary, context=None):
    """The primary metric and the other metrics that apply to the model's task.

    `context` ({"dataset": name, "x_train": training inputs}) is what the generative
    metrics need (their judge and the real-against-real floor).
    """
    if hasattr(model, "generate"):
        from zoo.training import gan_metrics

        found = gan_metrics.quality(model, x, context or {})
        return {primary: found[primary], **{k: v for k, v in found.items() if k != primary}}
    names = [primary]
    if getattr(model, "target_kind", None) == "values":
        names += [n for n in ("mae", "rmse") if n != primary]
    return {n: METRICS[n].compute(model, x, y) for n in names}
