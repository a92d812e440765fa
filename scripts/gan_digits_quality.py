"""Sample quality of a GAN recipe on digits over training: the generator vs its moving average.

Trains the model of a GAN recipe (default `recipes/conditional_gan.digits.yaml`: its
config, data split, batch size, optimizer and seed) with one `fit()` per evaluation
interval, and every `--eval-every` epochs scores two samplers with the recipe's judge
(the pretrained `convnet.digits`, `zoo.training.gan_metrics`):
- `generator`: the generator's own weights (what sampling used before `ema_momentum`);
- `ema`: `generator_ema`, the moving average that `generate()` samples from.
For each: frechet_ratio (Frechet distance of 1,000 samples to the test images in the
judge's features, over the real-train-to-test floor) and, for the conditional GAN,
conditional accuracy.

Usage (one JSON line per evaluation):
    OMP_NUM_THREADS=1 KERAS_BACKEND=torch python scripts/gan_digits_quality.py \
        --recipe recipes/dcgan.digits.yaml --epochs 50 --eval-every 10
"""

import argparse
import json
import time

import keras
import numpy as np

from zoo import data, registry
from zoo.training import gan_metrics, sample_quality
from zoo.training.optim import make_optimizer
from zoo.training.recipe import load_recipe


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="recipes/conditional_gan.digits.yaml")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=10)
    return parser.parse_args()


def score(judge, network, model, test_features, floor):
    """(frechet_ratio, conditional accuracy or None) of 1,000 samples of `network`."""
    n = gan_metrics.N_SAMPLES
    noise = np.random.default_rng(gan_metrics.SEED).standard_normal((n, model.latent_dim))
    labels = None if not model.num_classes else np.arange(n) % model.num_classes
    inputs = noise.astype("float32") if labels is None else [noise.astype("float32"),
                                                             labels.astype("int32")]
    samples = np.clip(keras.ops.convert_to_numpy(
        model.to_data_range(network.predict(inputs, batch_size=256, verbose=0))),
        *model.data_range)
    ratio = sample_quality.frechet_distance(
        sample_quality.judge_features(judge, samples), test_features) / floor
    accuracy = (None if labels is None
                else sample_quality.conditional_accuracy(judge, samples, labels))
    return round(ratio, 3), None if accuracy is None else round(accuracy, 3)


def main():
    args = parse_args()
    recipe = load_recipe(args.recipe)
    splits = data.load_splits(recipe.data.dataset, recipe.data.scheme)
    (x_train, y_train), (x_test, _) = splits["train"], splits["test"]
    judge = gan_metrics.judge_for(recipe.data.dataset)
    test_features = sample_quality.judge_features(judge, x_test)
    floor = sample_quality.frechet_distance(
        sample_quality.judge_features(judge, x_train), test_features)

    keras.utils.set_random_seed(recipe.train.seed)
    model = registry.build(recipe.architecture, **recipe.model.config)
    if model.generator_ema is None:
        raise SystemExit(f"{args.recipe}: set model.config.ema_momentum to compare samplers.")
    steps = -(-len(x_train) // recipe.train.batch_size)
    model.compile(optimizer=make_optimizer(recipe.train.optimizer, steps, args.epochs))
    labels = y_train if model.takes_targets else None
    started = time.perf_counter()
    for epoch in range(args.eval_every, args.epochs + 1, args.eval_every):
        model.fit(x_train, labels, batch_size=recipe.train.batch_size, epochs=epoch,
                  initial_epoch=epoch - args.eval_every, verbose=0)
        row = {"epoch": epoch, "minutes": round((time.perf_counter() - started) / 60, 2)}
        for name, network in (("generator", model.generator), ("ema", model.generator_ema)):
            row[f"{name}_frechet_ratio"], accuracy = score(judge, network, model,
                                                           test_features, floor)
            if accuracy is not None:
                row[f"{name}_conditional_accuracy"] = accuracy
        print(json.dumps(row), flush=True)
    print(json.dumps({"recipe": recipe.name, "backend": keras.backend.backend(),
                      "ema_momentum": model.ema_momentum, "frechet_floor": round(floor, 3)}))


if __name__ == "__main__":
    main()
