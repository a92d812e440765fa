"""Recipes: every shipped recipe parses; bad ones fail before training, naming the key."""

from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO_ROOT
from zoo.training.recipe import RecipeError, load_recipe, parse_recipe

RECIPES = sorted((REPO_ROOT / "recipes").glob("*.yaml"))


def _good():
    return yaml.safe_load((REPO_ROOT / "recipes" / "mlp_classifier.breast_cancer.yaml").read_text())


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_shipped_recipe_is_valid_and_named_after_its_file(path):
    recipe = load_recipe(path)
    assert recipe.name == path.stem
    assert recipe.evaluate.target is not None


def test_resolved_recipe_round_trips_through_yaml():
    recipe = parse_recipe(_good())
    again = parse_recipe(yaml.safe_load(recipe.to_yaml()))
    assert again.to_dict() == recipe.to_dict()


@pytest.mark.parametrize("mutate, key, expected", [
    (lambda r: r["train"].update(epoch=3), "train.epoch", "unknown key"),
    (lambda r: r["train"].update(epochs="ten"), "train.epochs", "must be int"),
    (lambda r: r["model"].update(architecture="convnett"), "model.architecture", "convnet"),
    (lambda r: r["data"].update(dataset="breast_cancr"), "data.dataset", "breast_cancer"),
    (lambda r: r["model"]["config"].update(unitz=3), "model.config.unitz", "MLPClassifier"),
    (lambda r: r["evaluate"].update(metric="f1"), "evaluate.metric", "accuracy"),
    (lambda r: r.pop("evaluate"), "evaluate", "required"),
    (lambda r: r["train"]["optimizer"].update(schedule="linear"), "schedule", "cosine"),
    (lambda r: r["data"].update(scheme="half"), "data.scheme", "stratified"),
])
def test_bad_recipes_name_the_file_the_key_and_what_was_expected(mutate, key, expected, tmp_path):
    data = _good()
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    message = str(err.value)
    assert str(path) in message and key in message and expected in message, message


def test_missing_and_malformed_files_are_recipe_errors(tmp_path):
    with pytest.raises(RecipeError, match="no such recipe"):
        load_recipe(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(Path(bad))


ONLINE = ["convnet.mnist", "convnet.fashion_mnist", "lstm_classifier.imdb",
          "mlp_regressor.california_housing", "dcgan.mnist", "conditional_gan.mnist",
          "dcgan.fashion_mnist", "conditional_gan.fashion_mnist"]


@pytest.mark.parametrize("name", ONLINE)
def test_online_recipes_exist_with_targets_and_need_the_network(name):
    recipe = load_recipe(REPO_ROOT / "recipes" / f"{name}.yaml")
    assert recipe.requires_network
    assert recipe.evaluate.target > 0 and recipe.evaluate.reference


def test_an_online_recipe_offline_fails_fast_naming_the_file(tmp_path, monkeypatch):
    from zoo import data
    from zoo.training.trainer import train

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    recipe = load_recipe(REPO_ROOT / "recipes" / "convnet.mnist.yaml")
    with pytest.raises(data.DatasetUnavailableError) as err:
        train(recipe, tmp_path / "out", verbose=0)
    assert "mnist.npz" in str(err.value) and "ZOO_DATA_DIR" in str(err.value)
    assert not (tmp_path / "out" / "metadata.json").exists()
