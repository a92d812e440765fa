"""Evaluate a trained artifact on a split of the dataset it was trained on."""

from pathlib import Path

from zoo import artifacts, data
from zoo.training.metrics import evaluate_all


def evaluate_artifact(model_ref, split=None):
    """(metadata, metrics) for an artifact directory or a pretrained name (`arch.tag`)."""
    if Path(model_ref).is_dir():
        folder = Path(model_ref)
        model = artifacts.load_artifact(folder)
        meta = artifacts.read_metadata(folder)["zoo"]
    else:
        import zoo

        variant = zoo.get_pretrained(model_ref)
        model = zoo.load(model_ref)
        meta = {"name": variant.name, "dataset": variant.dataset, "scheme": variant.scheme,
                "data_options": dict(variant.data_options), "metric": variant.metric}
    split = split or meta.get("split", "test")
    recipe_options = meta.get("data_options", {})
    splits = data.load_splits(meta["dataset"], meta.get("scheme"), **recipe_options)
    if split not in splits:
        raise ValueError(f"{meta['dataset']} has splits {sorted(splits)}, not {split!r}.")
    x, y = splits[split]
    meta = {**meta, "split_evaluated": split}
    context = {"dataset": meta["dataset"], "x_train": splits["train"][0]}
    return meta, evaluate_all(model, x, y, meta["metric"], context=context)
