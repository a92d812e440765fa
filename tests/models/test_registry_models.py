"""Registry-wide tests: every registered architecture gets these the moment it registers."""

import inspect

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import as_numpy, tiny_model

ARCHS = zoo.list_models()


def _predict(model, x):
    return as_numpy(model.predict(x, verbose=0, batch_size=64))


@pytest.mark.parametrize("name", ARCHS)
def test_build_and_forward_shape(name):
    model, _, _ = tiny_model(name)
    x = model.example_inputs(5, seed=1)
    out = _predict(model, x)
    expected = tuple(5 if d is None else d for d in model.output_shape)
    assert out.shape == expected
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", ARCHS)
def test_every_constructor_argument_is_in_config(name):
    arch = zoo.get_architecture(name)
    model = arch.build(**arch.tiny)
    params = [
        p for p, v in inspect.signature(arch.cls.__init__).parameters.items()
        if p != "self" and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)
    ]
    config = model.get_config()
    assert set(params) <= set(config), set(params) - set(config)
    for key, value in arch.tiny.items():
        stored = config[key]
        assert (list(stored) if isinstance(stored, tuple) else stored) == (
            list(value) if isinstance(value, tuple) else value
        )


@pytest.mark.parametrize("name", ARCHS)
def test_from_config_round_trip_gives_identical_outputs(name):
    model, _, _ = tiny_model(name)
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert clone.get_config() == model.get_config()
    x = model.example_inputs(8, seed=2)
    np.testing.assert_array_equal(_predict(clone, x), _predict(model, x))


@pytest.mark.parametrize("name", ARCHS)
def test_keras_file_round_trip_gives_identical_outputs(name, tmp_path):
    model, x_fit, y_fit = tiny_model(name)
    model.compile()
    model.fit(x_fit, y_fit, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    x = model.example_inputs(8, seed=3)
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))


@pytest.mark.parametrize("name", ARCHS)
def test_short_fit_lowers_the_loss(name):
    model, x, y = tiny_model(name)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = model.loss_on(x, y)
    model.fit(x, y, epochs=12, batch_size=16, verbose=0)
    after = model.loss_on(x, y)
    assert np.isfinite(after)
    assert after < before, (before, after)


def _add_axis(x):
    if isinstance(x, (list, tuple)):
        return [np.expand_dims(x[0], -1), *x[1:]]
    return np.expand_dims(x, -1)


@pytest.mark.parametrize("name", ARCHS)
def test_wrong_input_shape_raises_a_clear_error(name):
    model, _, _ = tiny_model(name)
    with pytest.raises(ValueError, match="expects"):
        model.predict(_add_axis(model.example_inputs(4)), verbose=0)


@pytest.mark.parametrize("name", ARCHS)
def test_wrong_input_dtype_raises_a_clear_error(name):
    model, _, _ = tiny_model(name)
    x = model.example_inputs(4)
    first = x[0] if isinstance(x, (list, tuple)) else x
    as_text = np.full(first.shape, "a", dtype=object).astype(str)
    bad = [as_text, *x[1:]] if isinstance(x, (list, tuple)) else as_text
    with pytest.raises(ValueError, match="expects"):
        model.predict(bad, verbose=0)


@pytest.mark.parametrize("name", [n for n in ARCHS if zoo.get_architecture(n).build(
    **zoo.get_architecture(n).tiny).num_classes])
def test_labels_beyond_the_class_count_raise_a_clear_error(name):
    model, x, y = tiny_model(name)
    model.compile()
    bad = np.asarray(y).copy()
    bad[0] = model.num_classes
    with pytest.raises(ValueError, match="num_classes"):
        model.fit(x, bad, epochs=1, verbose=0)


@pytest.mark.parametrize("module", ["zoo.models.base", "zoo.models.regression",
                                    "zoo.models.classifier", "zoo.models.cnn",
                                    "zoo.models.lstm"])
def test_model_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, module
