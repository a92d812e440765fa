"""The model card (README.md of an artifact): Hub front matter and a readable body.

Example:
    >>> from zoo.model_card import render_card
    >>> card = render_card({"name": "convnet.digits", "architecture": "convnet",
    ...     "family": "cnn", "dataset": "digits", "license": "apache-2.0",
    ...     "metric": "accuracy", "metrics": {"accuracy": 0.98}, "target": 0.975})
    >>> card.startswith("---\\nlibrary_name: keras")
    True
"""

import yaml

_DATASET_IDS = {  # Hub dataset ids where one exists
    "mnist": "mnist", "fashion_mnist": "fashion_mnist", "cifar10": "cifar10",
    "imdb": "imdb", "california_housing": "california_housing",
}


def _front_matter(meta):
    metrics = meta.get("metrics", {})
    dataset = meta.get("dataset", "")
    front = {
        "library_name": "keras",
        "license": meta.get("license", "apache-2.0"),
        "tags": ["keras-zoo", meta.get("family", ""), meta.get("architecture", ""),
                 meta.get("backend", "")],
        "datasets": [_DATASET_IDS.get(dataset, dataset)] if dataset else [],
        "model-index": [{
            "name": meta.get("name", ""),
            "results": [{
                "task": {"type": meta.get("task_type", "other")},
                "dataset": {"name": dataset, "type": _DATASET_IDS.get(dataset, dataset),
                            "split": meta.get("split", "test")},
                "metrics": [{"type": k, "value": round(float(v), 6), "name": f"test {k}"}
                            for k, v in metrics.items()],
            }],
        }],
    }
    front["tags"] = [t for t in front["tags"] if t]
    return "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n"


def _metrics_table(meta):
    primary = meta.get("metric")
    rows = ["| metric | value | target | baselines (same split) |", "|---|---|---|---|"]
    baselines = ", ".join(f"{k} {v:.4f}" for k, v in meta.get("baselines", {}).items()) or "-"
    for name, value in meta.get("metrics", {}).items():
        target = f"{meta['target']}" if name == primary and "target" in meta else ""
        base = baselines if name == primary else ""
        rows.append(f"| {name} | {value:.4f} | {target} | {base} |")
    return "\n".join(rows)


def render_card(meta, recipe_yaml=None, hub_id=None, has_curve=False, sample_grids=()):
    """Markdown model card from artifact metadata (the "zoo" section of metadata.json)."""
    name = meta.get("name", "model")
    load_as = f"hf://{hub_id}" if hub_id else name
    parts = [
        _front_matter(meta),
        f"# {name}\n",
        f"{meta.get('description', '')}\n",
        f"A [keras-zoo](https://github.com/keras-zoo/keras-zoo) `{meta.get('architecture')}` "
        f"({meta.get('family')}) trained on `{meta.get('dataset')}` "
        f"(split scheme `{meta.get('scheme')}`) with the torch, TensorFlow or JAX backend "
        f"of Keras 3; this copy was trained on `{meta.get('backend')}`.\n",
        "## Usage\n",
        "```python\nimport zoo\n\n"
        f'model = zoo.load("{load_as}")\npredictions = model.predict(x)\n```\n',
        "Plain Keras works too, once `import zoo` has registered the classes:\n",
        f'```python\nimport keras, zoo\n\nmodel = keras.saving.load_model("hf://{hub_id}")\n```\n'
        if hub_id else "",
        "## Results (test split)\n",
        _metrics_table(meta) + "\n",
        f"Reference: {meta['reference']}\n" if meta.get("reference") else "",
    ]
    if has_curve:
        parts.append("## Training curve\n\n![training curve](assets/training_curve.png)\n")
    for grid in sample_grids:
        parts.append(f"![samples](assets/{grid})\n")
    if meta.get("command"):
        parts.append(f"## Reproduce\n\n```bash\n{meta['command']}\n```\n")
        parts.append(f"Seed {meta.get('seed')}, wall time {meta.get('wall_time_s', 0):.0f} s, "
                     f"keras {meta.get('versions', {}).get('keras', '?')}.\n")
    if recipe_yaml:
        parts.append(f"## Recipe\n\n```yaml\n{recipe_yaml.rstrip()}\n```\n")
    return "\n".join(p for p in parts if p)
