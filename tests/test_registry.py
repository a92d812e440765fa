"""The registry: listing, filtering, building, suggestions for unknown names."""

import pytest

import zoo
from zoo import registry


def test_list_models_is_sorted_and_filters_with_globs():
    names = zoo.list_models()
    assert names == sorted(names)
    assert {"mlp_regressor", "mlp_classifier", "convnet", "lstm_classifier",
            "lstm_forecaster"} <= set(names)
    assert zoo.list_models("lstm_*") == ["lstm_classifier", "lstm_forecaster"]
    assert zoo.list_models("nothing*") == []


def test_build_returns_a_fresh_model_with_overrides():
    a = zoo.build("mlp_classifier", input_dim=4, num_classes=3, units=8)
    b = zoo.build("mlp_classifier", input_dim=4, num_classes=3, units=8)
    assert a is not b
    assert a.get_config()["units"] == 8


def test_unknown_names_suggest_close_matches():
    with pytest.raises(KeyError, match="Did you mean 'convnet'"):
        zoo.build("convnett")
    with pytest.raises(KeyError, match="unknown pretrained model"):
        zoo.build("convnet.nothing_like_this")


def test_every_architecture_has_a_family_a_description_and_a_tiny_config():
    for arch in registry.architectures():
        assert arch.family and arch.description
        model = arch.build(**arch.tiny)
        assert model.count_params() > 0


def test_pretrained_variant_names_must_be_arch_dot_tag():
    variant = registry.PretrainedVariant(
        name="convnet", architecture="convnet", dataset="digits", recipe="r.yaml",
        config={}, metrics={}, target={})
    with pytest.raises(ValueError, match="architecture.tag"):
        registry.register_pretrained(variant)
