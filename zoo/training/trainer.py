"""Train a recipe: data, model, per-epoch checkpoints, evaluation, the artifact.

Example:
    >>> from zoo.training.recipe import load_recipe
    >>> from zoo.training.trainer import train
    >>> result = train(load_recipe("recipes/mlp_classifier.breast_cancer.yaml"),
    ...                "/tmp/zoo-doc-run", epochs=1, verbose=0)
    >>> sorted(result.metrics)
    ['accuracy']
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from zoo import artifacts, data, registry
from zoo.backend.distribute import distribution_scope
from zoo.model_card import render_card
from zoo.training.checkpoint import load_checkpoint, save_checkpoint
from zoo.training.metrics import METRICS, evaluate_all
from zoo.training.optim import make_optimizer
from zoo.training.plots import sample_grid_png, training_curve_png

CHECKPOINT_DIR = "checkpoint"


@dataclass
class TrainResult:
    """What `train` returns: the trained model, its test metrics and the artifact path."""

    model: object
    metrics: dict
    baselines: dict
    history: dict
    wall_time_s: float
    artifact: Path
    meets_target: bool
    metadata: dict = field(default_factory=dict)
    is_chief: bool = True  # False in the other processes of a distributed run


def _fingerprint(recipe):
    return hashlib.sha256(recipe.to_yaml().encode()).hexdigest()


def _versions():
    versions = {"python": platform.python_version(), "keras": keras.__version__,
                "numpy": np.__version__}
    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    versions[backend] = sys.modules[module].__version__ if module in sys.modules else "?"
    from zoo import __version__

    versions["keras-zoo"] = __version__
    return versions


def _new_model(recipe, x_train, y_train, steps_per_epoch):
    keras.utils.set_random_seed(recipe.train.seed)
    model = registry.build(recipe.architecture, **recipe.model.config)
    model.adapt(x_train, _targets(model, y_train))
    optimizer = make_optimizer(recipe.train.optimizer, steps_per_epoch, recipe.train.epochs)
    model.compile(optimizer=optimizer, loss=recipe.train.loss)
    return model


def _targets(model, y):
    """`y` for models trained on (x, y); None for those trained on x alone (the DCGAN,
    whose dataset still has labels)."""
    return y if getattr(model, "takes_targets", True) else None


def _epoch_order(seed, epoch, n):
    """The shuffling of epoch `epoch`: a function of (seed, epoch) only, so a resumed
    run sees the same batches as an uninterrupted one."""
    return np.random.default_rng([seed, epoch]).permutation(n)


class _ReseedEachEpoch(keras.callbacks.Callback):
    """Restart the global RNGs from (seed, epoch) when an epoch begins, after `fit` has
    built what it builds (torch's unseeded dropout draws from the global generator), so
    a resumed run draws the same numbers as an uninterrupted one."""

    def __init__(self, seed):
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        keras.utils.set_random_seed(self.seed * 100003 + epoch)


def command_line(recipe):
    """The command that reproduces a run (the output folder does not change results)."""
    source = Path(recipe.source or f"recipes/{recipe.name}.yaml")
    if source.parent.name == "recipes":
        source = Path("recipes") / source.name
    return (f"zoo train {source.as_posix()} --backend {keras.backend.backend()} "
            f"--epochs {recipe.train.epochs} --seed {recipe.train.seed}")


def train(recipe, output, *, resume=False, epochs=None, seed=None, verbose="auto", log=print,
          distribute=False):
    """Train `recipe`, evaluate it on its test split and write the artifact to `output`.

    `resume=True` continues from the last per-epoch checkpoint in `output/checkpoint`
    and reaches the same result as an uninterrupted run. `distribute=True` trains
    data-parallel with the backend's own engine over every local device (and every
    process of a multi-host launch), same global batch and learning rate; only the
    chief process writes checkpoints and the artifact (see docs/distributed.md).
    """
    with distribution_scope(distribute) as dist:
        return _train(recipe, output, dist, resume=resume, epochs=epochs, seed=seed,
                      verbose=verbose, log=log)


def _train(recipe, output, dist, *, resume, epochs, seed, verbose, log):
    recipe = recipe.with_overrides(epochs=epochs, seed=seed)
    output = Path(output)
    splits = data.load_splits(recipe.data.dataset, recipe.data.scheme, **recipe.data.options)
    x_train, y_train = splits["train"]
    validation = splits.get(recipe.data.validation_split) if recipe.data.validation_split else None
    batch = recipe.train.batch_size
    dist.check_batch(batch)
    steps_per_epoch = -(-len(x_train) // batch)
    ckpt_dir = output / CHECKPOINT_DIR
    fingerprint = _fingerprint(recipe)

    start_epoch, history, elapsed_before = 0, {}, 0.0
    with dist.build_scope():
        checkpoint = load_checkpoint(ckpt_dir) if resume else None
    if checkpoint is not None:
        model, state = checkpoint
        if state.get("fingerprint") != fingerprint:
            raise ValueError(
                f"{ckpt_dir} was written by a different recipe or settings; resume with the "
                "same recipe, --epochs and --seed, or start afresh without --resume."
            )
        start_epoch, history = state["epoch"], state["history"]
        elapsed_before = state["elapsed_s"]
        log(f"Resuming {recipe.name} from epoch {start_epoch}/{recipe.train.epochs}")
    else:
        if ckpt_dir.exists() and dist.is_chief:
            shutil.rmtree(ckpt_dir)
        with dist.build_scope():
            model = _new_model(recipe, x_train, y_train, steps_per_epoch)
    if dist.enabled:
        log(f"Training data-parallel: {dist.describe()}, global batch {batch}")
        model = dist.prepare(model)
    validation_data, validation_batch = dist.validation(validation)

    started = time.perf_counter()
    for epoch in range(start_epoch, recipe.train.epochs):
        order = _epoch_order(recipe.train.seed, epoch, len(x_train))
        x_fit, y_fit, weight, fit_batch = dist.feed(x_train[order], y_train[order], batch)
        result = model.fit(
            x_fit, _targets(model, y_fit), sample_weight=weight, batch_size=fit_batch, epochs=epoch + 1,
            initial_epoch=epoch, shuffle=False, validation_data=validation_data,
            validation_batch_size=validation_batch, verbose=verbose if dist.is_chief else 0,
            callbacks=[_ReseedEachEpoch(recipe.train.seed)],
        )
        for key, values in dist.reduce_history(result.history).items():
            history.setdefault(key, []).extend(float(v) for v in values)
        if dist.is_chief:
            save_checkpoint(ckpt_dir, model, {
                "epoch": epoch + 1, "history": history, "fingerprint": fingerprint,
                "elapsed_s": elapsed_before + time.perf_counter() - started,
            })
    wall_time = elapsed_before + time.perf_counter() - started

    x_eval, y_eval = splits[recipe.evaluate.split]
    # Every process evaluates the full split on its copy of the (identical) weights.
    model = dist.evaluation_model(model)
    metrics = evaluate_all(model, x_eval, y_eval, recipe.evaluate.metric,
                           context={"dataset": recipe.data.dataset, "x_train": x_train})
    # Baselines exist for the offline datasets, at their default options.
    generative = hasattr(model, "generate")
    comparable = (data.has_baselines(recipe.data.dataset) and not recipe.data.options
                  and not generative)
    baselines = data.baselines(recipe.data.dataset, recipe.data.scheme) if comparable else {}
    metric = METRICS[recipe.evaluate.metric]
    meets = metric.meets(metrics[recipe.evaluate.metric], recipe.evaluate.target)

    arch = registry.get_architecture(recipe.architecture)
    meta = {
        "name": recipe.name, "description": recipe.description,
        "architecture": recipe.architecture, "family": arch.family,
        "dataset": recipe.data.dataset, "data_options": dict(recipe.data.options),
        "scheme": recipe.data.scheme
        or data.info(recipe.data.dataset).default_scheme,
        "split": recipe.evaluate.split, "metric": recipe.evaluate.metric,
        "goal": metric.goal, "target": recipe.evaluate.target,
        "reference": recipe.evaluate.reference, "metrics": metrics, "baselines": baselines,
        "meets_target": bool(meets), "seed": recipe.train.seed, "epochs": recipe.train.epochs,
        "backend": keras.backend.backend(), "versions": _versions(),
        "wall_time_s": round(wall_time, 2), "license": recipe.license,
        "task_type": {"classification": "image-classification" if arch.family == "cnn"
                      else "tabular-classification", "regression": "tabular-regression",
                      "forecast": "time-series-forecasting"}.get(
                          data.info(recipe.data.dataset).task, "other"),
        "command": command_line(recipe),
    }
    if dist.enabled:
        meta["distributed"] = {"engine": dist.describe(), "replicas": dist.replicas,
                               "processes": dist.processes}
    if not dist.is_chief:  # the chief alone writes the artifact
        dist.barrier()
        return TrainResult(model, metrics, baselines, history, wall_time, output,
                           bool(meets), meta, is_chief=False)
    assets = {"training_curve.png": training_curve_png(history, recipe.name)} if history else {}
    if generative:
        labels = np.arange(40) % model.num_classes if model.num_classes else None
        assets["samples.png"] = sample_grid_png(
            model.generate(40, labels=labels, seed=0), f"{recipe.name} on "
            f"{keras.backend.backend()}", labels)
    recipe_yaml = recipe.to_yaml()
    card = render_card(meta, recipe_yaml, has_curve="training_curve.png" in assets,
                       sample_grids=["samples.png"] if generative else ())
    artifacts.write_artifact(output, model, zoo_metadata=meta, recipe_yaml=recipe_yaml,
                             card=card, assets=assets or None)
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    dist.barrier()
    return TrainResult(model, metrics, baselines, history, wall_time, output, bool(meets), meta)
