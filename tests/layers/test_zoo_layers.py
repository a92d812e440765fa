"""Every zoo layer is the Keras layer it speeds up: a subclass, registered for `.keras`
files, with a docstring example that runs, and weight files that load both ways
between a model built with it and the same model built with the Keras layer."""

import doctest
import importlib

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import as_numpy
from tests.layers.compare import ATOL


def _lstm_stack(cls):
    return keras.Sequential([
        keras.Input((7,), dtype="int32"),
        keras.layers.Embedding(20, 3, mask_zero=True),
        keras.layers.Bidirectional(cls(5, return_sequences=True)),
        cls(5),
        keras.layers.Dense(2),
    ])


def _lstm_inputs(rng):
    tokens = rng.integers(0, 20, size=(4, 7)).astype("int32")
    tokens[1, 1:] = 0
    return tokens


def _image_stack(shape, *layers):
    return keras.Sequential([keras.Input(shape), *layers, keras.layers.Flatten(),
                             keras.layers.Dense(2)])


def _conv_stack(cls):
    return _image_stack((8, 8, 2), cls(4, 3, activation="relu"),
                        cls(3, 2, strides=2, padding="same"))


def _transpose_stack(cls):
    return _image_stack((4, 4, 2), cls(3, 4, strides=2, padding="same"),
                        cls(2, 3, padding="same", activation="relu"))


def _batch_norm_stack(cls):
    return _image_stack((8, 8, 2), cls(), keras.layers.Conv2D(3, 3), cls(center=False))


def _images(shape):
    return lambda rng: rng.normal(size=(2, *shape)).astype("float32")


# (zoo layer, the Keras layer it computes, registered name, module, a model built
# with either class, inputs for it). The models use default layer names on purpose:
# weight files address layers by class name.
LAYERS = {
    "FusedLSTM": (zoo.layers.FusedLSTM, keras.layers.LSTM, "zoo>FusedLSTM",
                  "zoo.layers.fused_lstm", _lstm_stack, _lstm_inputs),
    "Conv2D": (zoo.layers.Conv2D, keras.layers.Conv2D, "zoo>Conv2D", "zoo.layers.conv",
               _conv_stack, _images((8, 8, 2))),
    "Conv2DTranspose": (zoo.layers.Conv2DTranspose, keras.layers.Conv2DTranspose,
                        "zoo>Conv2DTranspose", "zoo.layers.conv", _transpose_stack,
                        _images((4, 4, 2))),
    "BatchNormalization": (zoo.layers.BatchNormalization, keras.layers.BatchNormalization,
                           "zoo>BatchNormalization", "zoo.layers.batch_norm",
                           _batch_norm_stack, _images((8, 8, 2))),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_zoo_layer_is_the_registered_keras_layer(name):
    layer, keras_layer, registered, module, _, _ = LAYERS[name]
    assert issubclass(layer, keras_layer)
    assert keras.saving.get_registered_name(layer) == registered
    assert keras.saving.get_registered_object(registered) is layer
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed


@pytest.mark.parametrize("suffix", [".weights.h5", ".keras"])
@pytest.mark.parametrize("direction", ["keras_to_zoo", "zoo_to_keras"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_weight_files_load_into_the_other(name, direction, suffix, tmp_path):
    layer, keras_layer, _, _, make, inputs = LAYERS[name]
    source, target = (keras_layer, layer) if direction == "keras_to_zoo" else (layer,
                                                                              keras_layer)
    saved, loaded = make(source), make(target)
    rng = np.random.default_rng(5)
    saved.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in saved.get_weights()])
    path = tmp_path / f"model{suffix}"
    if suffix == ".keras":
        saved.save(path)
    else:
        saved.save_weights(path)
    loaded.load_weights(path)
    for a, b in zip(loaded.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = inputs(rng)
    np.testing.assert_allclose(as_numpy(loaded(x)), as_numpy(saved(x)), atol=ATOL)


@pytest.mark.parametrize("name", list(LAYERS))
def test_keras_file_loads_back_with_the_zoo_layer(name, tmp_path):
    layer, keras_layer, _, _, make, inputs = LAYERS[name]
    model = make(layer)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    kinds = [type(inner) for inner in loaded._flatten_layers()
             if isinstance(inner, keras_layer)]
    assert len(kinds) >= 2 and set(kinds) == {layer}, kinds  # Bidirectional's two included
    x = inputs(np.random.default_rng(6))
    np.testing.assert_array_equal(as_numpy(loaded(x)), as_numpy(model(x)))
