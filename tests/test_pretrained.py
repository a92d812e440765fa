"""Every bundled pretrained variant: files match the catalogue's sha256, and on this
backend the loaded model meets its recipe's target on the test split."""

import pytest

import zoo
from tests.helpers import REPO_ROOT
from zoo import artifacts, data, registry
from zoo.training.metrics import METRICS
from zoo.training.recipe import load_recipe

BUNDLED = [v.name for v in registry.pretrained_variants() if v.bundled]


def test_the_offline_recipes_ship_pretrained():
    for name in ("convnet.digits", "mlp_classifier.breast_cancer", "mlp_regressor.diabetes",
                 "lstm_classifier.digits_rows", "lstm_forecaster.sf_temps"):
        assert name in BUNDLED, f"{name} is not bundled"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_files_match_the_registered_checksums(name):
    variant = zoo.get_pretrained(name)
    folder = variant.bundled_path()
    assert set(variant.files) == set(artifacts.artifact_files(folder))
    for filename, expected in variant.files.items():
        assert artifacts.sha256_file(folder / filename) == expected, filename


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_variant_meets_its_target_here(name):
    variant = zoo.get_pretrained(name)
    recipe = load_recipe(REPO_ROOT / variant.recipe)
    assert variant.target == {recipe.evaluate.metric: recipe.evaluate.target}
    model = zoo.load(name)
    x, y = data.load(variant.dataset, recipe.evaluate.split, scheme=variant.scheme,
                     **variant.data_options)
    metric = METRICS[recipe.evaluate.metric]
    value = metric.compute(model, x, y)
    assert metric.meets(value, recipe.evaluate.target), (name, value)
    assert value == pytest.approx(variant.metrics[metric.name], abs=2e-3)
