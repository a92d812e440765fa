"""Tiny trained artifacts and helpers for the Hub tests (tests/test_hub.py, tests/test_publish.py).

Import the fixtures where needed::

    from tests.hub_artifacts import artifact, trained  # noqa: F401
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import as_numpy, tiny_model
from zoo import artifacts

ARCH = "mlp_classifier"
RECIPE_YAML = "name: mlp_classifier.hubtest\narchitecture: mlp_classifier\ntrain: {epochs: 1}\n"
CURVE_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))  # stands in for the training curve


def zoo_metadata(meets_target=True, accuracy=0.9):
    """A small "zoo" section, as the trainer writes it."""
    return {"name": "mlp_classifier.hubtest", "architecture": ARCH, "family": "classifier",
            "dataset": "toy", "scheme": "random", "split": "test", "metric": "accuracy",
            "goal": "max", "target": 0.8, "metrics": {"accuracy": accuracy},
            "meets_target": meets_target, "backend": "torch", "license": "apache-2.0"}


def write(folder, model, *, meets_target=True, accuracy=0.9):
    """An artifact of `model` in `folder` with a recipe, a card and a curve asset."""
    return artifacts.write_artifact(
        folder, model, zoo_metadata=zoo_metadata(meets_target, accuracy), recipe_yaml=RECIPE_YAML,
        card="# mlp_classifier.hubtest\n", assets={"training_curve.png": CURVE_PNG})


def predict(model, x):
    return as_numpy(model(x, training=False))


def shifted(folder, delta):
    """The model of artifact `folder` with every weight moved by `delta` (a "newer" model)."""
    model = artifacts.load_artifact(folder)
    model.set_weights([w + delta for w in model.get_weights()])
    return model


class Trained:
    """A trained tiny model, its inputs, and a pristine artifact of it (never modified)."""

    def __init__(self, root: Path):
        model, x, y = tiny_model(ARCH)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        self.model, self.x = model, x
        self.expected = predict(model, x)
        self.folder = write(root / "pristine", model)

    def copy(self, dst) -> Path:
        """A fresh copy of the artifact that a test may change."""
        return artifacts.copy_artifact(self.folder, Path(dst))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return Trained(tmp_path_factory.mktemp("trained"))


@pytest.fixture
def artifact(trained, tmp_path):
    """A writable copy of the trained artifact."""
    return trained.copy(tmp_path / "artifact")


def repo_cache(hub_env, repo_id) -> Path:
    return hub_env.cache_dir / f"models--{repo_id.replace('/', '--')}"


def clear_cache(hub_env):
    shutil.rmtree(hub_env.cache_dir, ignore_errors=True)


def assert_same(actual, expected):
    np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected))
