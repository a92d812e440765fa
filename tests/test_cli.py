"""The `zoo` command, run in-process through `zoo.cli.main`."""

import yaml

from tests.helpers import REPO_ROOT
from zoo import cli


def test_list_shows_architectures_and_filters(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("convnet", "mlp_regressor", "lstm_forecaster"):
        assert name in out
    assert cli.main(["list", "lstm_*"]) == 0
    out = capsys.readouterr().out
    assert "lstm_classifier" in out and "convnet " not in out


def test_a_bad_recipe_fails_before_training_with_the_key(tmp_path, capsys):
    raw = yaml.safe_load((REPO_ROOT / "recipes" / "mlp_regressor.diabetes.yaml").read_text())
    raw["train"]["epochz"] = 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    assert cli.main(["train", str(bad), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "train.epochz" in err and str(bad) in err
    assert not (tmp_path / "out").exists()


def test_train_then_evaluate_an_artifact(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", str(REPO_ROOT / "recipes" / "mlp_regressor.diabetes.yaml"),
                     "--epochs", "2", "--output", str(out), "--quiet"])
    assert code in (0, 3)  # 3: ran fine but 2 epochs miss the recipe's target
    printed = capsys.readouterr().out
    assert "linear_regression_mae" in printed and "mae" in printed
    assert cli.main(["evaluate", str(out), "--split", "val"]) == 0
    printed = capsys.readouterr().out
    assert "diabetes" in printed and " val " in printed


def test_an_unknown_zoo_malloc_is_refused_before_training(tmp_path, monkeypatch):
    import pytest

    monkeypatch.setenv("ZOO_MALLOC", "jemalloc")
    with pytest.raises(SystemExit, match="ZOO_MALLOC is 'keep'"):
        cli.main(["train", str(REPO_ROOT / "recipes" / "mlp_classifier.breast_cancer.yaml"),
                  "--output", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()
