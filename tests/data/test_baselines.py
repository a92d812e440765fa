import pytest

from zoo import data

# Measured on scikit-learn 1.x with seed 0 (see zoo/data/baselines.py); ranges leave room
# for solver differences across versions, not for a changed split.


def test_digits_half_svc_reproduces_sklearns_example():
    assert data.baselines("digits", scheme="half")["svc_accuracy"] == pytest.approx(0.969, abs=0.01)


def test_digits_and_rows_share_the_svc_baseline():
    stratified = data.baselines("digits")
    assert 0.97 <= stratified["svc_accuracy"] <= 1.0
    assert data.baselines("digits_rows") == stratified


@pytest.mark.parametrize("name,low", [("breast_cancer", 0.92), ("wine", 0.92)])
def test_tabular_classifier_baselines(name, low):
    scores = data.baselines(name)
    assert set(scores) == {"logistic_regression_accuracy", "svc_accuracy"}
    assert all(low <= v <= 1.0 for v in scores.values()), scores


def test_diabetes_regression_baselines():
    scores = data.baselines("diabetes")
    for model in ("linear_regression", "ridge"):
        assert 40 <= scores[f"{model}_mae"] <= 56, scores  # measured ~48
        assert scores[f"{model}_mae"] < scores[f"{model}_rmse"] <= 70


def test_sf_temps_seasonal_naive_beats_persistence_by_far():
    scores = data.baselines("sf_temps")
    # measured: persistence ~3.32 F, seasonal naive ~0.153 F (the series is very smooth)
    assert 2.5 <= scores["persistence_mae"] <= 4.0
    assert 0.05 <= scores["seasonal_naive_mae"] <= 0.3


def test_baselines_are_deterministic():
    assert data.baselines("breast_cancer") == data.baselines("breast_cancer")


def test_baselines_errors_name_what_exists():
    with pytest.raises(ValueError, match="Did you mean 'wine'"):
        data.baselines("whine")
    with pytest.raises(ValueError, match="dataset with baselines 'mnist'.*Available: .*sf_temps"):
        data.baselines("mnist")
    with pytest.raises(ValueError, match="scheme"):
        data.baselines("wine", scheme="half")
