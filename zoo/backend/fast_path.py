"""Where `ZooModel.fit`, `evaluate` and `predict` run: on torch, the zoo's loops
(zoo/backend/torch_fit.py, torch_infer.py) when they compute what Keras' own methods
compute (equal up to float rounding);
Keras' own methods otherwise (other backends, custom steps, datasets, sample weights,
a Keras without the internals the loops read, ...). The model's `fit_path` /
`evaluate_path` / `predict_path` record which ran and, for Keras, why.
"""

import importlib

import keras

from zoo.backend import keras_internals

KERAS = "keras"
ZOO_TORCH = "zoo torch loop"


def _route(model, what, module, blocker, run):
    """`run(impl)` when the zoo's torch loop may do `what`, else None (Keras must).
    `module` names the loop's module in zoo.backend; `blocker(impl)` says why not."""
    attribute = f"{what}_path"
    if keras.backend.backend() != "torch":
        model.__dict__[attribute] = f"{KERAS} (the {keras.backend.backend()} backend)"
        return None
    if not model.native_torch_loop:
        model.__dict__[attribute] = f"{KERAS} (native_torch_loop is False)"
        return None
    spec = keras_internals.missing()
    reason = keras_internals.reason(spec) if spec else None
    if reason is None:
        impl = importlib.import_module(f"zoo.backend.{module}")
        try:
            reason = blocker(impl)
        except AttributeError as error:  # a Keras internal on the model moved
            reason = keras_internals.reason(error)
    # a plain attribute: Keras' and torch's __setattr__ cost more than a batch-1 predict
    model.__dict__[attribute] = f"{KERAS} ({reason})" if reason else ZOO_TORCH
    return None if reason else run(impl)


def fit(model, x, y, kwargs):
    """The `History` of the zoo's torch `fit`, or None when Keras' `fit` must run."""
    return _route(model, "fit", "torch_fit", lambda impl: impl.blocker(model, x, y, kwargs),
                  lambda impl: impl.fit(model, x, y, **_given(kwargs, impl.SUPPORTED)))


def evaluate(model, x, y, kwargs):
    """The zoo's torch `evaluate` result, or None when Keras' `evaluate` must run."""
    return _route(model, "evaluate", "torch_infer",
                  lambda impl: impl.evaluate_blocker(model, x, y, kwargs),
                  lambda impl: impl.evaluate(model, x, y,
                                             **_given(kwargs, impl.SUPPORTED_EVALUATE)))


def predict(model, x, kwargs):
    """The zoo's torch `predict` result, or None when Keras' `predict` must run."""
    return _route(model, "predict", "torch_infer",
                  lambda impl: impl.predict_blocker(model, x, kwargs),
                  lambda impl: impl.predict(model, x, **_given(kwargs, impl.SUPPORTED_PREDICT)))


def _given(kwargs, supported):
    """The arguments the zoo's loop takes (the blocker made sure the rest are None)."""
    return {k: v for k, v in kwargs.items() if k in supported}


def call(model, args, kwargs):
    """`model(x)` / `model(x, training=...)` through the model's `TorchGraph` when that
    is Keras' call (torch, an eager array, at top level), else None."""
    if keras.backend.backend() != "torch" or not model.native_torch_loop \
            or keras_internals.missing() is not None:
        return None
    from zoo.backend import torch_call

    return torch_call.call(model, args, kwargs)
