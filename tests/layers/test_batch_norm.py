"""zoo.layers.BatchNormalization against keras.layers.BatchNormalization: same outputs,
gradients and moving averages.

Runs on the backend named by KERAS_BACKEND. On torch the fused kernel must run where
it can (and Keras' code where it cannot); on TensorFlow and JAX the layer is Keras'.
"""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import as_numpy
from tests.layers.compare import ATOL, assert_close, run_layer, torch_spy
from zoo.layers import BatchNormalization

ON_TORCH = keras.backend.backend() == "torch"

CASES = {  # name: (input shape, layer arguments)
    "dense": ((6, 4), {}),
    "images_channels_last": ((3, 5, 4, 2), {}),
    "images_channels_first": ((3, 2, 5, 4), {"axis": 1}),
    "no_scale_no_center": ((6, 4), {"scale": False, "center": False}),
    "gan_momentum": ((3, 5, 4, 2), {"momentum": 0.9, "epsilon": 1e-5}),
}


@pytest.fixture
def fused_calls(monkeypatch):
    """On torch: one entry per call into the fused kernel (its `training` flag)."""
    return torch_spy(monkeypatch, "torch_norm", "batch_norm",
                     lambda args, kwargs, result: kwargs["training"])


def _pair(shape, config, seed=0):
    """Keras' layer and the zoo's, built with equal random weights (positive variance)."""
    reference = keras.layers.BatchNormalization(**config)
    fused = BatchNormalization(**config)
    rng = np.random.default_rng(seed)
    for layer in (reference, fused):
        layer.build(shape)
    weights = [np.abs(rng.normal(1.0, 0.5, size=w.shape)).astype("float32")
               for w in reference.get_weights()]
    reference.set_weights(weights)
    fused.set_weights(weights)
    return reference, fused


def _inputs(shape, seed=1):
    # Off-centre, not unit scale: exercises the variance computation.
    return (np.random.default_rng(seed).normal(size=shape) * 2 + 3).astype("float32")


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_keras_batch_normalization(case, training, fused_calls):
    shape, config = CASES[case]
    reference, fused = _pair(shape, config)
    x = _inputs(shape)
    expected = run_layer(reference, x, training=training)
    actual = run_layer(fused, x, training=training)
    assert_close(actual[0], expected[0], "output")
    assert_close(actual[1], expected[1], "gradient")
    if fused_calls is not None:
        assert fused_calls == [training]


@pytest.mark.parametrize("case", ["images_channels_last", "gan_momentum"])
def test_moving_averages_follow_keras(case, fused_calls):
    shape, config = CASES[case]
    reference, fused = _pair(shape, config)
    for step in range(3):
        x = _inputs(shape, seed=step)
        assert_close([as_numpy(fused(x, training=True))],
                     [as_numpy(reference(x, training=True))], f"output, step {step}")
    assert_close([as_numpy(w) for w in fused.non_trainable_weights],
                  [as_numpy(w) for w in reference.non_trainable_weights], "moving statistics")
    if fused_calls is not None:
        assert fused_calls == [True] * 3


def test_frozen_layer_uses_and_keeps_the_moving_statistics(fused_calls):
    shape, config = CASES["dense"]
    reference, fused = _pair(shape, config)
    reference.trainable = fused.trainable = False
    x = _inputs(shape)
    before = [as_numpy(w) for w in fused.non_trainable_weights]
    assert_close([as_numpy(fused(x, training=True))],
                 [as_numpy(reference(x, training=True))], "output")
    assert_close([as_numpy(w) for w in fused.non_trainable_weights], before, "moving statistics")
    if fused_calls is not None:
        assert fused_calls == [False]


@pytest.mark.parametrize("what", ["one_value_per_channel", "mask"])
def test_other_calls_run_keras_code(what, fused_calls):
    shape = (1, 4) if what == "one_value_per_channel" else (2, 3, 4)
    reference, fused = _pair(shape, {})
    x = _inputs(shape)
    kwargs = {"training": True}
    if what == "mask":
        kwargs["mask"] = keras.ops.convert_to_tensor(np.array([[1, 1, 0], [1, 0, 0]], bool))
    np.testing.assert_allclose(as_numpy(fused(x, **kwargs)), as_numpy(reference(x, **kwargs)),
                               atol=ATOL)
    if fused_calls is not None:
        assert fused_calls == []


def test_fused_path_only_on_torch():
    layer = BatchNormalization()
    x = keras.ops.convert_to_tensor(_inputs((4, 3)))
    assert zoo.backend.fused_ops.fused_batch_norm_available(layer, x, None) is ON_TORCH
