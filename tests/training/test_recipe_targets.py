"""Slow tier: each offline recipe trained from its YAML reaches its target.

On torch (the default backend) every offline recipe runs in full and must meet its
target and beat the classical baselines computed on the same split. On TensorFlow and
JAX a reduced budget runs (REDUCED: epochs, and the bound those epochs must reach,
stated here and in docs/results.md).
"""

import keras
import pytest

from tests.helpers import REPO_ROOT
from zoo.training.metrics import METRICS
from zoo.training.recipe import load_recipe
from zoo.training.trainer import train

OFFLINE = sorted(p.stem for p in (REPO_ROOT / "recipes").glob("*.yaml")
                 if not load_recipe(p).requires_network)

# name: (epochs on TensorFlow / JAX, bound on the recipe's metric at those epochs).
# Measured at these epochs (OMP_NUM_THREADS=1, seed 0), TensorFlow / JAX:
#   convnet.digits 0.8966 / 0.9522, lstm_classifier.digits_rows 0.9741 / 0.9778,
#   lstm_forecaster.sf_temps MAE 0.1248 / 0.1157, mlp_classifier.breast_cancer
#   0.9647 / 0.9647, mlp_regressor.diabetes MAE 48.35 / 49.67, dcgan.digits frechet_ratio
#   10.46 / 5.47, conditional_gan.digits conditional accuracy 0.995 / 0.988 (frechet_ratio
#   3.80 / 2.82); each bound leaves margin.
REDUCED = {
    "convnet.digits": (15, 0.85),
    "lstm_classifier.digits_rows": (12, 0.93),
    "lstm_forecaster.sf_temps": (2, 0.15),
    "mlp_classifier.breast_cancer": (30, 0.93),
    "mlp_regressor.diabetes": (50, 52.0),
    "dcgan.digits": (20, 14.0),
    "conditional_gan.digits": (20, 0.90),
}

# Targets beyond the recipe's metric, on torch at full budget (the GAN issue asks both).
ALSO = {"conditional_gan.digits": {"frechet_ratio": 3.0}}

# How each recipe must compare with the baselines of zoo.data.baselines (same split).
BEATS = {
    "convnet.digits": ["svc_accuracy"],
    "lstm_classifier.digits_rows": [],
    "lstm_forecaster.sf_temps": ["persistence_mae", "seasonal_naive_mae"],
    "mlp_classifier.breast_cancer": ["logistic_regression_accuracy", "svc_accuracy"],
    "mlp_regressor.diabetes": ["linear_regression_mae", "ridge_mae"],
    # GANs have no classical baseline; every GAN run must beat an untrained generator.
    "dcgan.digits": [],
    "conditional_gan.digits": [],
}


def test_every_offline_recipe_has_a_reduced_budget_and_baseline_rule():
    assert set(OFFLINE) == set(REDUCED) == set(BEATS)


@pytest.mark.slow
@pytest.mark.parametrize("name", OFFLINE)
def test_recipe_reaches_its_target(name, tmp_path):
    recipe = load_recipe(REPO_ROOT / "recipes" / f"{name}.yaml")
    metric = METRICS[recipe.evaluate.metric]
    full = keras.backend.backend() == "torch"
    epochs, bound = (None, recipe.evaluate.target) if full else REDUCED[name]
    result = train(recipe, tmp_path / name, epochs=epochs, verbose=0)
    value = result.metrics[recipe.evaluate.metric]
    assert metric.meets(value, bound), f"{name}: {metric.name} {value:.4f} vs bound {bound}"
    if "frechet_untrained" in result.metrics:
        assert result.metrics["frechet_distance"] < result.metrics["frechet_untrained"] / 2
    if full:
        assert result.meets_target
        for other, target in ALSO.get(name, {}).items():
            assert METRICS[other].meets(result.metrics[other], target), (
                f"{name}: {other} {result.metrics[other]:.4f} vs target {target}")
        for baseline in BEATS[name]:
            assert metric.meets(value, result.baselines[baseline]), (
                f"{name}: {value:.4f} does not beat {baseline} {result.baselines[baseline]:.4f}")
