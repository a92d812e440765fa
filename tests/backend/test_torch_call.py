"""`ZooModel.__call__` on torch runs the zoo's graph for an eager top-level call and
returns what Keras' `__call__` returns (outputs and gradients); every other call
(symbolic, nested in another model, with a mask) is Keras'."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import tiny_model

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the zoo's call path exists on torch only")

if keras.backend.backend() == "torch":
    import torch

FAMILIES = ["mlp_regressor", "mlp_classifier", "convnet", "lstm_classifier", "lstm_forecaster"]


def _outputs_and_grads(model, x, native):
    model.native_torch_loop = native
    out = model(torch.as_tensor(x), training=True)
    grads = torch.autograd.grad(out.sum(), [v.value for v in model.trainable_variables])
    return out.detach().numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("arch", FAMILIES)
def test_call_matches_keras_outputs_and_gradients(arch):
    config = {**zoo.get_architecture(arch).tiny}
    model, x, _ = tiny_model(arch, **config)
    if "dropout" in model.get_config():
        model, x, _ = tiny_model(arch, **{**config, "dropout": 0.0})
    expected = model(x, training=False)
    model.native_torch_loop = True
    got = model(x)  # numpy in, as Keras takes it
    np.testing.assert_allclose(keras.ops.convert_to_numpy(expected),
                               got.detach().numpy(), atol=1e-6)
    (out_k, grads_k), (out_z, grads_z) = (_outputs_and_grads(model, x, native)
                                          for native in (False, True))
    np.testing.assert_allclose(out_k, out_z, atol=1e-6)
    for a, b in zip(grads_k, grads_z):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_symbolic_and_nested_calls_stay_keras():
    model, x, _ = tiny_model("mlp_regressor")
    inputs = keras.Input((x.shape[1],))
    outer = keras.Model(inputs, keras.layers.Dense(2)(model(inputs)))  # symbolic call
    assert outer.predict(x, verbose=0).shape == (32, 2)
    model.native_torch_loop = False
    expected = keras.ops.convert_to_numpy(outer(x))
    model.native_torch_loop = True
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outer(x)), expected, atol=1e-6)
    stacked = keras.Sequential([model, keras.layers.Dense(1)])
    assert tuple(stacked(x).shape) == (32, 1)


@pytest.mark.parametrize("arch", ["dcgan", "conditional_gan"])
def test_gan_call_predict_and_generate_match_keras(arch):
    model = zoo.build(arch, **zoo.get_architecture(arch).tiny)
    inputs = model.example_inputs(5)
    labels = None if model.num_classes is None else np.arange(5) % model.num_classes
    results = []
    for native in (False, True):
        model.native_torch_loop = native
        results.append((keras.ops.convert_to_numpy(model(inputs, training=False)),
                        model.predict(inputs, batch_size=2, verbose=0),
                        model.generate(5, labels=labels, seed=3)))
        assert model.predict_path == ("zoo torch loop" if native else
                                      "keras (native_torch_loop is False)")
    for keras_result, zoo_result in zip(*results):
        np.testing.assert_allclose(keras_result, zoo_result, atol=1e-6)
