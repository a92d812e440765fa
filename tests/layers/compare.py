"""Comparing a layer with its reference: outputs and gradients on any backend.

`run_layer` calls a layer statelessly and differentiates a fixed projection of its
outputs with the backend's own autodiff (torch autograd, TensorFlow's tape, JAX's
`jax.grad`), so two layers with the same weights can be compared output by output and
gradient by gradient (`assert_close`, at `ATOL`).
"""

import keras
import numpy as np
import pytest

from tests.helpers import as_numpy

ATOL = 1e-5


def value_and_grad(loss_fn, args):
    """(outputs, grads of loss w.r.t. every arg) with the backend's autodiff.

    `loss_fn(*args)` returns `(scalar loss, list of outputs)`.
    """
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        targs = [keras.ops.convert_to_tensor(a).requires_grad_() for a in args]
        loss, outs = loss_fn(*targs)
        grads = torch.autograd.grad(loss, targs)
    elif backend == "tensorflow":
        import tensorflow as tf

        targs = [tf.convert_to_tensor(a) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(targs)
            loss, outs = loss_fn(*targs)
        grads = tape.gradient(loss, targs)
    elif backend == "jax":
        import jax

        # jit: op-by-op JAX through Keras' RNN loop takes seconds per call.
        (_, outs), grads = jax.jit(jax.value_and_grad(
            loss_fn, argnums=tuple(range(len(args))), has_aux=True))(*args)
    else:
        pytest.skip(f"no gradient helper for {backend}")
    return as_numpy(list(outs)), as_numpy(list(grads))


def projection(outputs):
    """A fixed, position-dependent scalar of the outputs (so every gradient is distinct)."""
    total = 0.0
    for o in outputs:
        n = int(np.prod(o.shape))
        w = np.cos(np.arange(n) * 0.7 + 0.3).reshape(tuple(o.shape)).astype("float32")
        total = total + keras.ops.sum(o * keras.ops.convert_to_tensor(w))
    return total


def run_layer(layer, x, *, mask=None, initial_state=None, training=None, grad_x=True):
    """Outputs of `layer(x, ...)`, and gradients of a projection of them w.r.t. x (if
    `grad_x`), the initial state and every trainable weight. `training` is passed to
    the layer's `call` unless None (`stateless_call` passes arguments as they are)."""
    weights = [as_numpy(v.value) for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]
    states = [] if initial_state is None else [np.asarray(s) for s in initial_state]
    kwargs = {} if training is None else {"training": training}
    if mask is not None:
        kwargs["mask"] = keras.ops.convert_to_tensor(mask)

    def loss_fn(*args):
        if grad_x:
            xx, args = args[0], args[1:]
        else:
            xx = x
        ws, st = args[: len(weights)], args[len(weights):]
        kw = dict(kwargs, initial_state=list(st)) if st else kwargs
        out, _ = layer.stateless_call(list(ws), non_trainable, xx, **kw)
        outs = keras.tree.flatten(out)
        return projection(outs), outs

    args = ([x] if grad_x else []) + weights + states
    return value_and_grad(loss_fn, args)


def assert_close(actual, expected, what):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, atol=ATOL, rtol=0, err_msg=f"{what} #{i}")



def torch_spy(monkeypatch, module_name, function, record):
    """On torch: wrap `zoo.backend.<module_name>.<function>` so that every call appends
    `record(args, kwargs, result)` to the returned list. None on other backends (the
    zoo layers run Keras' code there, the torch modules are not imported), and for
    torch_conv on a Keras without the helper it imports (the zoo's layers then run Keras'
    convolution: `zoo.backend.keras_internals`)."""
    from zoo.backend import keras_internals

    if keras.backend.backend() != "torch" or (
            module_name == "torch_conv" and keras_internals.missing("conv") is not None):
        return None
    import importlib

    module = importlib.import_module(f"zoo.backend.{module_name}")
    calls = []
    real = getattr(module, function)

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(record(args, kwargs, result))
        return result

    monkeypatch.setattr(module, function, spy)
    return calls
