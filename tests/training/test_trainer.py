"""The trainer: artifact written and loadable, determinism, resume to the same result."""

import json

import keras
import numpy as np
import pytest
import yaml

from tests.helpers import REPO_ROOT, as_numpy
from zoo import artifacts, data
from zoo.training import checkpoint
from zoo.training.recipe import parse_recipe
from zoo.training.trainer import train


def _recipe(epochs=4):
    raw = yaml.safe_load(
        (REPO_ROOT / "recipes" / "mlp_classifier.breast_cancer.yaml").read_text())
    raw["train"]["epochs"] = epochs
    raw["model"]["config"]["units"] = 8
    return parse_recipe(raw, source="recipes/mlp_classifier.breast_cancer.yaml")


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "artifact"
    return train(_recipe(), out, verbose=0), out


def test_training_writes_a_verified_artifact_that_keras_loads(trained):
    result, out = trained
    for name in ("config.json", "metadata.json", "model.weights.h5", "recipe.yaml",
                 "README.md", "assets/training_curve.png"):
        assert (out / name).is_file(), name
    assert not (out / "checkpoint").exists()
    meta = artifacts.verify_artifact(out)["zoo"]
    assert meta["metrics"] == result.metrics
    assert meta["backend"] == keras.backend.backend()
    assert meta["seed"] == 0 and meta["wall_time_s"] > 0
    assert set(meta["baselines"]) == {"logistic_regression_accuracy", "svc_accuracy"}
    loaded = keras.saving.load_model(out, safe_mode=True)
    x, _ = data.load("breast_cancer", "test")
    np.testing.assert_allclose(as_numpy(loaded.predict(x, verbose=0)),
                               as_numpy(result.model.predict(x, verbose=0)), atol=1e-6)
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: keras") and "zoo train" in card


def test_a_tampered_artifact_fails_verification(trained, tmp_path):
    _, out = trained
    copy = artifacts.copy_artifact(out, tmp_path / "copy")
    weights = copy / "model.weights.h5"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    weights.write_bytes(bytes(raw))
    with pytest.raises(artifacts.ArtifactError, match="checksum mismatch for model.weights.h5"):
        artifacts.load_artifact(copy)


def test_same_seed_twice_gives_the_same_metrics(trained, tmp_path):
    result, _ = trained
    again = train(_recipe(), tmp_path / "again", verbose=0)
    assert again.metrics == pytest.approx(result.metrics, abs=1e-6)
    for a, b in zip(_weights(again.model), _weights(result.model)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_resume_after_an_interruption_reaches_the_same_result(trained, tmp_path, monkeypatch):
    result, _ = trained
    out = tmp_path / "interrupted"
    real_save = checkpoint.save_checkpoint
    calls = {"n": 0}

    def crash_after_two_epochs(folder, model, state):
        real_save(folder, model, state)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr("zoo.training.trainer.save_checkpoint", crash_after_two_epochs)
    with pytest.raises(KeyboardInterrupt):
        train(_recipe(), out, verbose=0)
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 2 and not (out / "metadata.json").exists()
    monkeypatch.setattr("zoo.training.trainer.save_checkpoint", real_save)

    resumed = train(_recipe(), out, resume=True, verbose=0)
    assert resumed.metrics == pytest.approx(result.metrics, abs=1e-6)
    assert len(resumed.history["loss"]) == 4
    for a, b in zip(_weights(resumed.model), _weights(result.model)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_resume_refuses_a_checkpoint_from_other_settings(tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setattr("zoo.training.trainer.save_checkpoint",
                        lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        train(_recipe(), out, verbose=0)
    monkeypatch.undo()
    checkpoint.save_checkpoint(out / "checkpoint", keras.Sequential([keras.Input((1,))]),
                               {"epoch": 1, "history": {}, "fingerprint": "other",
                                "elapsed_s": 0.0})
    with pytest.raises(ValueError, match="different recipe"):
        train(_recipe(), out, resume=True, verbose=0)


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")

    with pytest.raises(TypeError):
        checkpoint.atomic_write_bytes(target, "not bytes")  # fails mid-write
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def _gan_recipe(name, epochs=2):
    """A GAN recipe with small networks (the trainer's path, not the recipe's quality)."""
    raw = yaml.safe_load((REPO_ROOT / "recipes" / f"{name}.yaml").read_text())
    raw["train"]["epochs"] = epochs
    raw["model"]["config"].update(generator_filters=[16, 8], discriminator_filters=[8, 16])
    return parse_recipe(raw, source=f"recipes/{name}.yaml")


@pytest.mark.parametrize("name", ["dcgan.digits", "conditional_gan.digits"])
def test_gan_recipes_train_resume_and_write_sample_grids(name, tmp_path, monkeypatch):
    # The DCGAN trains on the images alone although the dataset has labels.
    result = train(_gan_recipe(name), tmp_path / "full", verbose=0)
    assert set(result.history) == {"d_loss", "g_loss"} and len(result.history["d_loss"]) == 2
    assert {"frechet_ratio", "frechet_untrained"} <= set(result.metrics)
    assert ("conditional_accuracy" in result.metrics) == name.startswith("conditional")
    assert (tmp_path / "full" / "assets" / "samples.png").is_file()

    real_save = checkpoint.save_checkpoint

    def crash_after_one_epoch(folder, model, state):
        real_save(folder, model, state)
        raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr("zoo.training.trainer.save_checkpoint", crash_after_one_epoch)
    with pytest.raises(KeyboardInterrupt):
        train(_gan_recipe(name), tmp_path / "resumed", verbose=0)
    monkeypatch.setattr("zoo.training.trainer.save_checkpoint", real_save)
    resumed = train(_gan_recipe(name), tmp_path / "resumed", resume=True, verbose=0)
    # Both networks, both optimizers, the moving average and the noise seed resume exactly.
    for a, b in zip(_weights(resumed.model), _weights(result.model)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert resumed.metrics == pytest.approx(result.metrics, rel=1e-4)
