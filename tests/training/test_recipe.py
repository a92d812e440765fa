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
