"""The Keras internals the zoo's torch code reads: all present on the installed Keras,
all listed in `zoo.backend.keras_internals`, and a Keras without one makes the zoo's
models run Keras' own methods (with a reason and a warning) instead of failing."""

import ast
import pathlib

import keras
import numpy as np
import pytest
import torch

from tests.helpers import tiny_model
from zoo.backend import keras_internals

BACKEND_DIR = pathlib.Path(keras_internals.__file__).parent
on_torch = pytest.mark.skipif(keras.backend.backend() != "torch",
                              reason="the zoo's torch loop runs on torch only")


def _keras_version():
    return tuple(int(part) for part in keras.__version__.split(".")[:2])


@pytest.mark.parametrize("group", sorted(keras_internals.REQUIRED))
def test_every_listed_internal_resolves_from_its_first_keras(group):
    """From the group's first Keras release every name resolves; before it, `missing`
    names one (and the zoo runs Keras' own code for that group)."""
    unresolved = [s for s in keras_internals.REQUIRED[group] if not keras_internals.resolves(s)]
    if _keras_version() >= keras_internals.FIRST_KERAS[group]:
        assert unresolved == []
        assert keras_internals.missing(group) is None
    else:
        assert unresolved and keras_internals.missing(group) == unresolved[0]


def test_every_group_says_its_first_keras():
    assert keras_internals.FIRST_KERAS.keys() == keras_internals.REQUIRED.keys()


def test_resolves_says_no_for_a_module_or_attribute_that_is_not_there():
    assert not keras_internals.resolves("keras.src.no_such_module:anything")
    assert not keras_internals.resolves("keras.src.callbacks:CallbackList.no_such_method")
    assert keras_internals.resolves("keras.src.callbacks:CallbackList.on_epoch_end")


def _keras_src_imports(path):
    """"module:name" for every `from keras.src... import name` in a file."""
    tree = ast.parse(path.read_text())
    return {f"{node.module}:{alias.name}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras.src")
            for alias in node.names}


def test_every_keras_src_import_of_the_torch_code_is_listed():
    """A new `from keras.src... import` in zoo/backend/torch_*.py must be listed too,
    or a Keras that moved it would break `import` instead of routing to Keras."""
    specs = [spec for specs in keras_internals.REQUIRED.values() for spec in specs]
    imported = set().union(*(_keras_src_imports(p) for p in BACKEND_DIR.glob("torch_*.py")))
    assert imported, "the scan found no keras.src import: the test reads the wrong files"

    def listed(item):  # `from a import b`: b is a name of module a, or a module itself
        module, name = item.split(":")
        return any(s == item or s.startswith(f"{item}.") or s.startswith(f"{module}.{name}:")
                   for s in specs)

    assert sorted(i for i in imported if not listed(i)) == []

@pytest.fixture
def fresh_internals():
    """`missing()` checked again after the test changed what Keras/torch has."""
    keras_internals.missing.cache_clear()
    yield
    keras_internals.missing.cache_clear()


@on_torch
def test_without_an_internal_the_models_run_keras_own_methods(monkeypatch, fresh_internals):
    model, x, y = tiny_model("mlp_classifier")
    model.compile()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "zoo torch loop"
    monkeypatch.delattr(torch, "_fused_adam_")  # what the zoo's Adam step calls
    keras_internals.missing.cache_clear()
    with pytest.warns(RuntimeWarning, match="torch:_fused_adam_") as warned:
        history = model.fit(x, y, epochs=2, verbose=0)
    assert warned[0].filename == __file__  # the warning points at the user's call
    expected = f"keras (keras {keras.__version__} lacks an internal the zoo's torch code reads"
    assert model.fit_path.startswith(expected) and "torch:_fused_adam_" in model.fit_path
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert model.predict(x, verbose=0).shape == (32, 3)
    assert model.predict_path.startswith(expected)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] > 0
    assert model.evaluate_path.startswith(expected)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)),
                               model.predict(x, verbose=0), atol=1e-6)


@on_torch
def test_a_layer_internal_missing_while_the_graph_is_built_makes_the_model_keras_own(
        monkeypatch):
    """The zoo's graph reads layer internals while it is built (the dropout's
    `seed_generator._initial_seed`, a Dense's `_kernel`, variables' `_value`). Keras'
    own code reads them too, so a Keras that renamed one would have renamed its own
    reads: simulated by a lowering that fails as the zoo's stale read would."""
    from zoo.backend import torch_lowering

    def stale_read(layer):
        raise AttributeError("'SeedGenerator' object has no attribute '_zoo_test_seed'")

    monkeypatch.setitem(torch_lowering._LOWERINGS, keras.layers.Dropout, stale_read)
    model, x, y = tiny_model("mlp_classifier", dropout=0.25)
    model.compile()
    with pytest.warns(RuntimeWarning, match="_zoo_test_seed"):
        model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path.startswith("keras (") and "_zoo_test_seed" in model.fit_path
    probabilities = model.predict(x, verbose=0)
    assert model.predict_path == model.fit_path
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), probabilities,
                               atol=1e-6)


@on_torch
def test_a_compiled_loss_without_an_internal_routes_fit_to_keras():
    """An internal of the compiled loss (its `_fn_kwargs`, read when the zoo's step is
    prepared) missing: the blocker names it before any step has run."""
    from zoo.backend import fast_path

    model, x, y = tiny_model("mlp_regressor")
    model.compile()
    model.fit(x, y, epochs=1, verbose=0)
    loss = model._compile_loss._flat_losses[0].loss
    kwargs = loss.__dict__.pop("_fn_kwargs")
    try:
        with pytest.warns(RuntimeWarning, match="_fn_kwargs"):
            assert fast_path.fit(model, x, y, {"epochs": 1, "verbose": 0}) is None
    finally:
        loss.__dict__["_fn_kwargs"] = kwargs
    assert model.fit_path.startswith("keras (") and "_fn_kwargs" in model.fit_path
    model.fit(x, y, epochs=1, verbose=0)
    assert model.fit_path == "zoo torch loop"
