"""zoo.layers.Conv2D and Conv2DTranspose against Keras' layers: same outputs and gradients.

Runs on the backend named by KERAS_BACKEND. On torch the fused path must run where it
can (and give Keras' results); on TensorFlow and JAX the layers are Keras' own.
"""

import re

import keras
import numpy as np
import pytest

import zoo
from tests.layers.compare import assert_close, run_layer, torch_spy
from zoo.layers import Conv2D, Conv2DTranspose

ON_TORCH = keras.backend.backend() == "torch"
SHAPE = (2, 9, 8, 3)  # odd and even sides: "same" pads asymmetrically for some strides


@pytest.fixture
def fused_calls(monkeypatch):
    """On torch: the `relu` flag of every call into the fused convolution. None elsewhere."""
    return torch_spy(monkeypatch, "torch_conv", "conv",
                     lambda args, kwargs, result: kwargs["relu"])


def _compare(keras_layer, zoo_layer, data_format, config):
    """Keras' layer and the zoo's with equal random weights: outputs and gradients
    (inputs and every weight) within ATOL."""
    shape = SHAPE if data_format == "channels_last" else (SHAPE[0], SHAPE[3], *SHAPE[1:3])
    reference = keras_layer(data_format=data_format, **config)
    fused = zoo_layer(data_format=data_format, **config)
    reference.build(shape)
    fused.build(shape)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") for w in reference.get_weights()]
    reference.set_weights(weights)
    fused.set_weights(weights)
    x = rng.normal(size=shape).astype("float32")
    try:
        expected = run_layer(reference, x)
    except ValueError as error:  # Keras' own layer rejects it (keras < 3.15, some windows)
        with pytest.raises(ValueError, match=re.escape(str(error).splitlines()[0][:80])):
            run_layer(fused, x)  # so does the zoo's: it is Keras' layer there
        return
    actual = run_layer(fused, x)
    assert_close(actual[0], expected[0], "output")
    assert_close(actual[1], expected[1], "gradient")


CONV = {
    "valid": dict(filters=4, kernel_size=3),
    "valid_relu": dict(filters=4, kernel_size=3, activation="relu"),
    "same_odd_kernel": dict(filters=4, kernel_size=3, padding="same", activation="tanh"),
    "same_even_kernel": dict(filters=4, kernel_size=4, padding="same"),  # asymmetric
    "same_stride_2": dict(filters=4, kernel_size=4, strides=2, padding="same",
                          activation="relu"),
    "valid_stride_2_rect": dict(filters=4, kernel_size=(3, 2), strides=(2, 1)),
    "dilated_same": dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
    "no_bias_relu": dict(filters=4, kernel_size=3, use_bias=False, activation="relu"),
    "groups": dict(filters=6, kernel_size=3, groups=3, padding="same", activation="relu"),
}
TRANSPOSE = {  # torch's padding/output_padding express every one of these windows
    "dcgan_up": dict(filters=4, kernel_size=4, strides=2, padding="same", use_bias=False),
    "same_stride_2_relu": dict(filters=4, kernel_size=2, strides=2, padding="same",
                               activation="relu"),
    "valid_stride_2": dict(filters=4, kernel_size=3, strides=2),
    "valid_output_padding": dict(filters=4, kernel_size=3, strides=2, output_padding=1,
                                 activation="tanh"),
    "same_stride_1_odd": dict(filters=4, kernel_size=3, padding="same"),
    "dilated": dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"),
}
DECLINED = {  # windows that torch's arguments cannot express: Keras' call runs
    "same_stride_1_even": dict(filters=4, kernel_size=2, padding="same"),
    "same_stride_2_odd": dict(filters=4, kernel_size=3, strides=2, padding="same"),
}
CASES = ([(Conv2D, name) for name in CONV] + [(Conv2DTranspose, name) for name in TRANSPOSE]
         + [(Conv2DTranspose, name) for name in DECLINED])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("zoo_layer, config", CASES,
                         ids=[f"{cls.__name__}-{name}" for cls, name in CASES])
def test_matches_keras_layer(zoo_layer, config, data_format, fused_calls):
    if data_format == "channels_first" and not ON_TORCH:
        pytest.skip("off torch the layers are Keras' own (the channels_last cases check "
                    "that); TensorFlow's CPU convolutions are channels_last only")
    arguments = {**CONV, **TRANSPOSE, **DECLINED}[config]
    keras_layer = keras.layers.Conv2D if zoo_layer is Conv2D else keras.layers.Conv2DTranspose
    _compare(keras_layer, zoo_layer, data_format, arguments)
    if fused_calls is not None:
        fused = config not in DECLINED
        assert fused_calls == ([arguments.get("activation") == "relu"] if fused else [])


def test_fused_path_only_on_torch():
    """On torch with a Keras that has the helper the fused path imports (keras >= 3.15);
    Keras' own convolution everywhere else."""
    from zoo.backend import keras_internals

    expected = ON_TORCH and keras_internals.missing("conv") is None
    for layer in (Conv2D(2, 3), Conv2DTranspose(2, 4, strides=2, padding="same")):
        assert zoo.backend.fused_ops.fused_conv_available(layer) is expected


def test_same_names_and_weights_as_keras_conv2d():
    layer = Conv2D(4, 3)
    layer.build((None, 8, 8, 2))
    assert layer.name.startswith("conv2d")
    assert [(v.name, tuple(v.shape)) for v in layer.weights] == [
        ("kernel", (3, 3, 2, 4)), ("bias", (4,))]
