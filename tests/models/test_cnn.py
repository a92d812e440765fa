"""ConvNet specifics: layout-independent weights, the deeper option, bad arguments."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import as_numpy


def _digits_like(n=16):
    return np.random.default_rng(0).uniform(0, 16, size=(n, 8, 8, 1)).astype("float32")


CONFIG = dict(input_shape=(8, 8, 1), num_classes=10, filters=(8, 16), padding="same",
              rescale=1 / 16, batch_norm=True, convs_per_block=2, dense_units=16)


@pytest.mark.parametrize("saved, loaded", [("channels_last", "channels_first"),
                                           ("channels_first", "channels_last")])
def test_weights_give_the_same_outputs_in_either_layout(saved, loaded, tmp_path):
    x = _digits_like()
    first = zoo.ConvNet(**CONFIG, data_format=saved)
    first.compile()
    first.fit(x, np.arange(16) % 10, epochs=1, verbose=0)  # moves batch-norm statistics
    first.save_weights(tmp_path / "w.weights.h5")
    expected = as_numpy(first.predict(x, verbose=0))

    second = zoo.ConvNet(**CONFIG, data_format=loaded)
    assert second.get_layer("block0_conv0").data_format == loaded
    second.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(as_numpy(second.predict(x, verbose=0)), expected, atol=1e-5)


def test_default_layout_is_the_backends_fastest_and_follows_keras_elsewhere():
    model = zoo.ConvNet(**CONFIG)
    assert model.get_config()["data_format"] is None  # resolved again wherever it loads
    expected = ("channels_first" if keras.backend.backend() == "torch"
                else keras.config.image_data_format())
    assert model.get_layer("block0_conv0").data_format == expected


def test_explicit_data_format_is_kept_in_the_config():
    model = zoo.ConvNet(**{**CONFIG, "data_format": "channels_first"})
    assert model.get_config()["data_format"] == "channels_first"
    assert model.get_layer("block1_conv1").data_format == "channels_first"


def test_keras_io_defaults_match_the_reference_architecture():
    model = zoo.ConvNet()  # keras-io "Simple MNIST convnet": 34,826 parameters
    assert model.count_params() == 34826
    assert model.output_shape == (None, 10)


def test_augmentation_layers_live_inside_the_model_and_only_act_in_training():
    model = zoo.ConvNet(**{**CONFIG, "augment": {"rotation": 0.1, "translation": 0.1}})
    x = _digits_like(4)
    np.testing.assert_allclose(as_numpy(model(x, training=False)),
                               as_numpy(model(x, training=False)))
    assert {"aug_rotate", "aug_translate"} <= {layer.name for layer in model.layers}


@pytest.mark.parametrize("bad, message", [
    (dict(input_shape=(8, 8)), "height, width, channels"),
    (dict(num_classes=1), "num_classes"),
    (dict(augment={"blur": 1}), "augment"),
    (dict(data_format="nchw"), "data_format"),
    (dict(padding="valid"), "shrinks to nothing"),
    (dict(padding="full"), "padding"),
])
def test_bad_arguments_say_what_was_expected(bad, message):
    with pytest.raises(ValueError, match=message):
        zoo.ConvNet(**{**CONFIG, **bad})
