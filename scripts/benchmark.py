#!/usr/bin/env python
"""Speed of every zoo family against a hand-written PyTorch twin; writes docs/performance.md.

For each family the zoo model is trained the way a user trains it (`compile()`, then
`model.fit` on numpy arrays: on torch the zoo's own loop, zoo/backend/fast_path.py) on
each requested Keras backend, beside a "twin": plain
`torch.nn` modules with the same architecture and the same number of trainable
parameters (asserted), trained by a manual loop with `torch.optim.Adam` on the same
synthetic data (fixed seed), batch size and learning rate. Inference is timed at batch
1 and batch 256, for the zoo both through `model.predict` (the user path) and through
the direct call `model(x, training=False)`.

A/B rows measure what the zoo does for speed side by side with the alternative: the
MLPs, convnet, LSTMs and forecaster through Keras' own fit/predict/__call__ instead of
the zoo's torch loop (`Case.keras_loop`), the convnet channels_last and
channels_first, the convnet and the DCGAN built with Keras' own layers instead of
`zoo.layers`' (`Case.keras_layers`), the MLP with `jit_compile=True` (`Case.compile`);
LSTM kernels forward + backward, one vs two torch threads, and Keras' per-step paths
are timed on their own.

Every backend runs in its own process (Keras fixes its backend at import), and so does
the twin. The processes build and warm up everything first, then the parent asks them
for one measurement at a time: `for round in range(R): for item in items: measure`, so
every configuration is sampled throughout the run and slow phases of a shared machine
hit all of them alike. Reported values are medians over the rounds.

Usage (the default run takes a few minutes on 2 CPU cores):

    OMP_NUM_THREADS=1 python scripts/benchmark.py            # writes docs/performance.md
    python scripts/benchmark.py --backends torch --cases convnet --rounds 3 --no-doc
    python scripts/benchmark.py --list                       # the cases
    python scripts/benchmark.py --device gpu                 # on a CUDA GPU: writes the
                                                             # page's GPU section only

The core (`build_zoo`, `build_twin`, `Bench`) also runs in-process on the current
backend; tests/test_benchmark.py uses it on tiny sizes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import functools
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("torch", "tensorflow", "jax")
TWIN = "twin"
INFER_BATCHES = (1, 256)
GOALS = {"train": 0.9, 1: 0.5, 256: 0.9}  # speed relative to the twin, torch backend
SEED = 0


# --------------------------------------------------------------------------------------
# Cases: what is measured, at which sizes
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One row of the tables: a zoo architecture, its constructor arguments, its data."""

    name: str
    family: str  # zoo architecture name
    label: str
    batch: int
    steps: int  # training steps per measurement (one fit() epoch)
    config: dict
    data: dict = field(default_factory=dict)
    backends: tuple = BACKENDS
    infer_batches: tuple = INFER_BATCHES
    steps_on: dict = field(default_factory=dict)  # fewer steps on a slow backend
    # A/B variants: built with Keras' own layers in place of zoo.layers' (True);
    # compile() arguments beyond the zoo's defaults; fit/predict/__call__ through Keras'
    # own code instead of the zoo's torch loop (`model.native_torch_loop = False`).
    keras_layers: bool = False
    compile: dict = field(default_factory=dict)
    keras_loop: bool = False

    @property
    def samples(self):
        return self.batch * self.steps

    @property
    def is_variant(self):
        """An A/B row (Keras' layers, other compile arguments, Keras' loop, a forced
        convolution layout), not a zoo default."""
        return (self.keras_layers or self.keras_loop or bool(self.compile)
                or "data_format" in self.config)

    def samples_on(self, worker):
        """Training samples per measurement on `worker` (a backend or the twin)."""
        return self.batch * self.steps_on.get(worker, self.steps)


# Cases also measured through Keras' own fit/predict/__call__ (`Case.keras_loop`), as
# "<name>_keras_loop", to measure the zoo's torch loop against Keras'.
KERAS_LOOP_BASES = ("mlp_regressor", "mlp_classifier", "convnet", "lstm_tokens_pre",
                    "lstm_floats", "lstm_forecaster")


def keras_loop_name(name):
    return f"{name}_keras_loop"


def _keras_loop_variant(case):
    """`case` on torch through Keras' fit/predict/__call__: same sizes, data and batches."""
    return dataclasses.replace(case, name=keras_loop_name(case.name),
                               label=f"{case.label}, Keras' fit/predict",
                               backends=("torch",), keras_loop=True)


def cases(scale="default"):
    """The cases by name. `scale="tiny"`: the same architectures at toy sizes (tests)."""
    tiny = scale == "tiny"
    if scale not in ("default", "tiny"):
        raise ValueError(f"scale is 'default' or 'tiny', got {scale!r}")

    def pick(default, small):
        return small if tiny else default

    seq, vocab = pick(200, 12), pick(20000, 50)
    tokens = dict(num_classes=2, sequence_length=seq, vocab_size=vocab,
                  embedding_dim=pick(64, 4), units=(pick(64, 4),))
    image = pick((28, 28, 1), (8, 8, 1))
    gan = dict(image_shape=image, latent_dim=pick(128, 8),
               generator_filters=pick((128, 64), (8, 4)),
               discriminator_filters=pick((64, 128), (4, 8)))
    all_cases = [
        Case("mlp_regressor", "mlp_regressor", "mlp_regressor", pick(32, 8), pick(64, 2),
             dict(input_dim=10, outputs=1, units=pick(64, 8), depth=2)),
        Case("mlp_classifier", "mlp_classifier", "mlp_classifier", pick(32, 8), pick(64, 2),
             dict(input_dim=30, num_classes=2, units=pick(64, 8), depth=2, dropout=0.3)),
        # Keras' jit_compile=True on torch: torch.compile of Keras' training step, so
        # through Keras' fit (training only: compiling predict too would double a long
        # warm-up).
        Case("mlp_classifier_jit", "mlp_classifier",
             "mlp_classifier, Keras' fit, jit_compile=True", pick(32, 8), pick(64, 2),
             dict(input_dim=30, num_classes=2, units=pick(64, 8), depth=2, dropout=0.3),
             backends=("torch",), infer_batches=(), compile={"jit_compile": True},
             keras_loop=True),
        # The zoo's default layout (data_format=None), and both layouts forced on torch.
        *[Case(name, "convnet", label, pick(128, 8), pick(8, 2),
               dict(input_shape=image, num_classes=10, filters=pick((32, 64), (4, 8)),
                    padding=pick("valid", "same"), **extra), backends=backends)
          for name, label, extra, backends in (
              ("convnet", "convnet", {}, BACKENDS),
              ("convnet_cl", "convnet channels_last", {"data_format": "channels_last"},
               ("torch",)),
              ("convnet_cf", "convnet channels_first", {"data_format": "channels_first"},
               ("torch",)))],
        # The convnet with Keras' Conv2D in place of zoo.layers.Conv2D (torch's layout).
        Case("convnet_keras", "convnet", "convnet, Keras layers", pick(128, 8), pick(8, 2),
             dict(input_shape=image, num_classes=10, filters=pick((32, 64), (4, 8)),
                  padding=pick("valid", "same")), backends=("torch",), keras_layers=True),
        Case("lstm_tokens_pre", "lstm_classifier", "lstm_classifier tokens, pre-padded",
             pick(64, 4), pick(4, 2), tokens, data=dict(padding="pre")),
        # TensorFlow and JAX run the same code for either padding: torch only.
        Case("lstm_tokens_post", "lstm_classifier", "lstm_classifier tokens, post-padded",
             pick(64, 4), pick(4, 2), tokens, data=dict(padding="post"),
             backends=("torch",)),
        Case("lstm_floats", "lstm_classifier", "lstm_classifier float sequences",
             pick(64, 4), pick(8, 2),
             dict(num_classes=10, sequence_length=pick(28, 6), num_features=pick(28, 3),
                  units=(pick(64, 4),))),
        Case("lstm_forecaster", "lstm_forecaster", "lstm_forecaster", pick(64, 4), pick(8, 2),
             dict(window=pick(72, 12), num_features=5, horizon=pick(24, 4), num_targets=1,
                  units=(pick(32, 4),), residual="seasonal", season=pick(24, 4),
                  autoregressive=pick(48, 8))),
        # JAX (XLA on CPU) takes seconds per DCGAN step: one step per measurement there.
        Case("dcgan", "dcgan", "dcgan (D + G step)", pick(64, 4), 2, gan,
             steps_on={"jax": 1}),
        # Keras' Conv2D, Conv2DTranspose and BatchNormalization in place of zoo.layers'.
        Case("dcgan_keras", "dcgan", "dcgan, Keras layers", pick(64, 4), 2, gan,
             backends=("torch",), keras_layers=True),
    ]
    # each Keras-loop variant right after its case, so the two are measured close in time
    ordered = []
    for case in all_cases:
        ordered.append(case)
        if case.name in KERAS_LOOP_BASES:
            ordered.append(_keras_loop_variant(case))
    return {case.name: case for case in ordered}


# The fused-LSTM kernel comparison (forward + backward of Embedding + LSTM + Dense(1)).
def lstm_kernel_sizes(scale="default"):
    if scale == "tiny":
        return dict(batch=4, steps=12, vocab=50, embed=4, units=4)
    return dict(batch=64, steps=200, vocab=20000, embed=64, units=64)


LSTM_KERNEL_VARIANTS = {
    # name: (worker, description)
    "keras_nomask": ("torch", "keras.layers.LSTM, no mask"),
    "fused_nomask": ("torch", "zoo FusedLSTM, no mask"),
    # A/B of the kernels' storage: FusedLSTM's column-major (zoo.backend.torch_storage)
    # against the row-major memory of keras.layers.LSTM's variables
    "fused_rowmajor_nomask": ("torch", "zoo FusedLSTM, no mask, kernels stored row-major"),
    "twin_nomask": (TWIN, "torch.nn.LSTM, no mask"),
    "keras_post": ("torch", "keras.layers.LSTM, post-padded mask"),
    "fused_post": ("torch", "zoo FusedLSTM, post-padded mask"),
    "graph_post": ("torch", "zoo graph: Embedding inside the FusedLSTM, post-padded mask"),
    "twin_packed": (TWIN, "torch.nn.LSTM, packed sequences (post-padded)"),
    "twin_gather": (TWIN, "torch.nn.LSTM, padded batch + gather (post-padded)"),
    "keras_pre": ("torch", "keras.layers.LSTM, pre-padded mask"),
    "fused_pre": ("torch", "zoo FusedLSTM, pre-padded mask"),
    "graph_pre": ("torch", "zoo graph: Embedding inside the FusedLSTM, pre-padded mask"),
    "twin_gather_pre": (TWIN, "torch.nn.LSTM, rows shifted to the front, padded batch + "
                              "gather (pre-padded)"),
}


# --------------------------------------------------------------------------------------
# Synthetic data (the same in every process: a function of the case and the seed only)
# --------------------------------------------------------------------------------------
def _token_lengths(rng, n, seq):
    """Review-like lengths: about half the sequences fill the window (IMDB at maxlen 200)."""
    return np.minimum(rng.integers(max(2, seq // 10), 2 * seq, size=n), seq)


def pad_tokens(rng, n, seq, vocab, padding):
    lengths = _token_lengths(rng, n, seq)
    tokens = rng.integers(1, vocab, size=(n, seq)).astype("int32")
    position = np.arange(seq)[None]
    if padding == "post":
        tokens[position >= lengths[:, None]] = 0
    elif padding == "pre":
        tokens[position < seq - lengths[:, None]] = 0
    else:
        raise ValueError(padding)
    return tokens


def make_data(case, n, seed=SEED):
    """(x, y) numpy arrays for `case`: inputs as the zoo model takes them (channels last)."""
    rng = np.random.default_rng(seed)
    c = case.config
    if case.family == "mlp_regressor":
        x = (rng.normal(size=(n, c["input_dim"])) * 3 + 1).astype("float32")
        y = (x @ rng.normal(size=(c["input_dim"], 1)) + 100).astype("float32")
        return x, y
    if case.family == "mlp_classifier":
        x = (rng.normal(size=(n, c["input_dim"])) * 2 + 5).astype("float32")
        return x, rng.integers(0, c["num_classes"], size=n).astype("int32")
    if case.family == "convnet":
        x = rng.integers(0, 256, size=(n, *c["input_shape"])).astype("float32")
        return x, rng.integers(0, c["num_classes"], size=n).astype("int32")
    if case.family == "lstm_classifier":
        if c.get("vocab_size"):
            x = pad_tokens(rng, n, c["sequence_length"], c["vocab_size"], case.data["padding"])
        else:
            x = rng.normal(size=(n, c["sequence_length"], c["num_features"])).astype("float32")
        return x, rng.integers(0, c["num_classes"], size=n).astype("int32")
    if case.family == "lstm_forecaster":
        t = np.arange(c["window"] + c["horizon"])
        phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
        series = np.sin(2 * np.pi * t[None, :, None] / c["season"] + phase) * 5 + 15
        series = series + rng.normal(size=(n, len(t), c["num_features"])) * 0.5
        x = series[:, : c["window"]].astype("float32")
        y = series[:, c["window"]:, :c["num_targets"]].astype("float32")
        return x, y
    if case.family == "dcgan":
        x = rng.integers(0, 256, size=(n, *c["image_shape"])).astype("float32")
        return x, None
    raise ValueError(f"no data for family {case.family!r}")


def inference_inputs(case, n, seed=SEED + 1):
    """What `model(x)` / `predict` take: the model's inputs, noise for the GAN."""
    if case.family == "dcgan":
        return np.random.default_rng(seed).normal(size=(n, case.config["latent_dim"])).astype(
            "float32")
    return make_data(case, n, seed)[0]


# --------------------------------------------------------------------------------------
# The zoo side (any backend)
# --------------------------------------------------------------------------------------
def build_zoo(case):
    """The zoo model of `case`, adapted to its training data and compiled with defaults."""
    import keras

    import zoo

    keras.utils.set_random_seed(SEED)
    with _keras_layers(case.keras_layers):
        model = zoo.build(case.family, **case.config)
    if case.keras_loop:  # Keras' own fit/evaluate/predict/__call__ (torch)
        model.native_torch_loop = False
    x, y = make_data(case, case.samples)
    model.adapt(x, y)
    model.compile(**case.compile)
    return model


# The zoo.layers the models are built from, each named as the Keras layer it computes.
ZOO_LAYERS = ("Conv2D", "Conv2DTranspose", "BatchNormalization", "LSTM")


@contextlib.contextmanager
def _keras_layers(swap):
    """With `swap`, zoo models built inside take Keras' own layers where they take
    zoo.layers' (the models look their layers up in zoo.layers when they are built)."""
    import keras

    import zoo.layers

    saved = {name: getattr(zoo.layers, name) for name in ZOO_LAYERS}
    try:
        if swap:
            for name in ZOO_LAYERS:
                setattr(zoo.layers, name, getattr(keras.layers, name))
        yield
    finally:
        for name, layer in saved.items():
            setattr(zoo.layers, name, layer)


def trainable_count(variables):
    return int(sum(math.prod(v.shape) for v in variables))


def zoo_trainable_params(model):
    return trainable_count(model.trainable_variables)


def zoo_conv_layout(model):
    """The data_format the model's first convolution runs in (None: no convolution)."""
    for layer in model.layers:
        if hasattr(layer, "data_format") and hasattr(layer, "kernel_size"):
            return layer.data_format
    return None


def zoo_layer_count(model):
    """Keras layers in the model's forward pass (both networks of a GAN), inputs excluded."""
    import keras

    models = [model.generator, model.discriminator] if hasattr(model, "generator") else [model]
    return sum(not isinstance(layer, keras.layers.InputLayer)
               for m in models for layer in m.layers)


# --------------------------------------------------------------------------------------
# The twin side: plain torch.nn modules, a manual loop, torch.optim.Adam
# --------------------------------------------------------------------------------------
@functools.cache
def _twin_nets():
    """The twin modules (defined lazily: the Keras backend processes never import them)."""
    import torch
    from torch import nn

    class Standardize(nn.Module):
        """(x - mean) / std with fixed statistics (Keras' Normalization after adapt)."""

        def __init__(self, x, axis_keep=-1, invert=False):
            super().__init__()
            flat = np.asarray(x, "float32").reshape(-1, np.shape(x)[axis_keep])
            self.register_buffer("mean", torch.as_tensor(flat.mean(0)))
            self.register_buffer("std", torch.as_tensor(np.maximum(flat.std(0), 1e-7)))
            self.invert = invert

        def forward(self, x):
            if self.invert:
                return x * self.std + self.mean
            return (x - self.mean) / self.std

    def frozen_second_bias(lstm):
        """torch's LSTM has two bias vectors, Keras' one: freeze b_hh at zero (the zoo's
        FusedLSTM passes zeros there too), so the trainable counts match. The weights
        start as Keras' LSTM's do (`keras_lstm_init`)."""
        for name, param in lstm.named_parameters():
            if name.startswith("bias_hh"):
                param.requires_grad_(False)
                with torch.no_grad():
                    param.zero_()
        return keras_lstm_init(lstm)

    class MLP(nn.Module):
        def __init__(self, x, y, input_dim, units, depth, outputs, dropout=0.0,
                     head="linear"):
            super().__init__()
            layers = [Standardize(x)]
            width = input_dim
            for _ in range(depth):
                layers += [nn.Linear(width, units), nn.ReLU()]
                if dropout:
                    layers.append(nn.Dropout(dropout))
                width = units
            layers.append(nn.Linear(width, outputs))
            self.net = nn.Sequential(*layers)
            self.head = head
            self.denorm = Standardize(y, invert=True) if head == "linear" else None

        def forward(self, x):
            out = self.net(x)
            return self.denorm(out) if self.denorm is not None else out  # logits otherwise

    class ConvNet(nn.Module):
        """The keras-io MNIST convnet on NCHW inputs."""

        def __init__(self, input_shape, num_classes, filters, padding, rescale=1 / 255,
                     kernel_size=3, dropout=0.5):
            super().__init__()
            height, width, channels = input_shape
            layers, size = [], [height, width]
            for f in filters:
                layers += [nn.Conv2d(channels, f, kernel_size,
                                     padding="same" if padding == "same" else 0),
                           nn.ReLU(), nn.MaxPool2d(2)]
                if padding == "valid":
                    size = [s - kernel_size + 1 for s in size]
                size = [s // 2 for s in size]
                channels = f
            self.rescale = rescale
            self.features = nn.Sequential(*layers, nn.Flatten())
            self.head = nn.Sequential(nn.Dropout(dropout),
                                      nn.Linear(channels * size[0] * size[1], num_classes))

        def forward(self, x):
            return self.head(self.features(x * self.rescale))  # logits

    class LSTMClassifier(nn.Module):
        """Embedding (token ids) or standardization (floats), LSTM, class head.

        Token ids: the padded batch runs through the LSTM and each sequence's output at
        its last token is taken (pre-padded rows are first shifted to the front), which
        is what Keras computes with `mask_zero=True`."""

        def __init__(self, x, num_classes, units, vocab_size=None, embedding_dim=64,
                     num_features=None, padding="post", **_):
            super().__init__()
            (units,) = units
            self.padding = padding
            if vocab_size:
                self.embedding = nn.Embedding(vocab_size, embedding_dim)
                width = embedding_dim
            else:
                self.embedding = None
                self.norm = Standardize(x)
                width = num_features
            self.lstm = frozen_second_bias(nn.LSTM(width, units, batch_first=True))
            self.head = nn.Linear(units, 1 if num_classes == 2 else num_classes)

        def forward(self, x):
            if self.embedding is None:
                _, (h, _) = self.lstm(self.norm(x))
                return self.head(h[0])
            steps = x.shape[1]
            lengths = (x != 0).sum(1)
            if self.padding == "pre":
                shift = torch.arange(steps, device=x.device)[None] + (steps - lengths)[:, None]
                x = x.gather(1, shift % steps)
            out, _ = self.lstm(self.embedding(x))
            last = (lengths - 1).clamp_min(0).view(-1, 1, 1).expand(-1, 1, out.shape[-1])
            return self.head(out.gather(1, last)[:, 0])

    class Forecaster(nn.Module):
        """LSTM correction to the seasonal-naive forecast plus a linear AR path."""

        def __init__(self, x, y, window, num_features, horizon, num_targets, units,
                     residual, season, autoregressive, target_features=None, **_):
            super().__init__()
            (units,) = units
            assert residual == "seasonal" and horizon <= season
            self.targets = list(target_features or range(num_targets))
            self.horizon, self.season, self.ar_steps = horizon, season, autoregressive
            self.norm = Standardize(x)
            self.lstm = frozen_second_bias(nn.LSTM(num_features, units, batch_first=True))
            self.head = nn.Linear(units, horizon * num_targets)
            naive = x[:, -season:, self.targets][:, :horizon]
            self.denorm = Standardize(y - naive, invert=True)
            self.ar = nn.Linear(autoregressive, horizon, bias=False) if autoregressive else None

        def forward(self, x):
            batch = x.shape[0]
            _, (h, _) = self.lstm(self.norm(x))
            out = self.denorm(self.head(h[0]).view(batch, self.horizon, -1))
            targets = x[:, :, self.targets]
            if self.ar is not None:
                history = targets[:, -self.ar_steps:] - targets[:, -1:]
                out = out + self.ar(history.transpose(1, 2)).transpose(1, 2)
            return targets[:, -self.season:][:, : self.horizon] + out

    class Generator(nn.Module):
        def __init__(self, image_shape, latent_dim, filters, kernel_size=4):
            super().__init__()
            height, width, channels = image_shape
            factor = 2 ** len(filters)
            assert height % factor == 0 and width % factor == 0
            self.grid = (filters[0], height // factor, width // factor)
            cells = math.prod(self.grid)
            self.project = nn.Sequential(nn.Linear(latent_dim, cells, bias=False),
                                         nn.BatchNorm1d(cells, eps=1e-3, momentum=0.1),
                                         nn.LeakyReLU(0.2))
            layers, width_in = [], filters[0]
            for f in filters:
                layers += [nn.ConvTranspose2d(width_in, f, kernel_size, stride=2, padding=1,
                                              bias=False),
                           nn.BatchNorm2d(f, eps=1e-3, momentum=0.1), nn.LeakyReLU(0.2)]
                width_in = f
            layers += [nn.Conv2d(width_in, channels, 3, padding=1), nn.Tanh()]
            self.up = nn.Sequential(*layers)

        def forward(self, noise):
            return self.up(self.project(noise).view(-1, *self.grid))

    class Discriminator(nn.Module):
        def __init__(self, image_shape, filters, kernel_size=4, dropout=0.3):
            super().__init__()
            height, width, channels = image_shape
            layers = []
            for f in filters:
                layers += [nn.Conv2d(channels, f, kernel_size, stride=2, padding=1),
                           nn.LeakyReLU(0.2)]
                channels, height, width = f, height // 2, width // 2
            self.net = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(dropout),
                                     nn.Linear(channels * height * width, 1))

        def forward(self, images):
            return self.net(images)

    return dict(MLP=MLP, ConvNet=ConvNet, LSTMClassifier=LSTMClassifier,
                Forecaster=Forecaster, Generator=Generator, Discriminator=Discriminator)


class Twin:
    """A hand-written torch model of `case` with its training loop and inference.

    `train_epoch()` runs one shuffled epoch over the case's data (what one `fit()` call
    does), tracking the loss and the zoo's default metric as Keras does; `infer(x)` runs
    the model in eval mode under `torch.no_grad()` and returns numpy outputs (as the zoo's
    outputs are read)."""

    def __init__(self, case, device="cpu"):
        import torch
        import torch.nn.functional as F

        self.torch, self.F = torch, F
        self.case = case
        self.device = torch.device(torch_device(device))
        nets = _twin_nets()
        c = case.config
        torch.manual_seed(SEED)
        x, y = make_data(case, case.samples)
        self.batch = case.batch
        adam = dict(lr=1e-3, eps=1e-7)  # Keras' Adam defaults (compile("adam"))
        self.channels_first = case.family in ("convnet", "dcgan")
        if case.family == "mlp_regressor":
            self.net = nets["MLP"](x, y, c["input_dim"], c["units"], c["depth"], c["outputs"],
                                   c.get("dropout", 0.0))
            self.loss = F.mse_loss
            self.metric = lambda out, yb: (out - yb).abs().mean()
            y = y.astype("float32")
        elif case.family == "mlp_classifier":
            assert c["num_classes"] == 2
            self.net = nets["MLP"](x, None, c["input_dim"], c["units"], c["depth"], 1,
                                   c.get("dropout", 0.0), head="sigmoid")
            self._binary()
            y = y.astype("float32")[:, None]
        elif case.family == "convnet":
            self.net = nets["ConvNet"](c["input_shape"], c["num_classes"], c["filters"],
                                       c.get("padding", "valid"))
            self._categorical()
            y = y.astype("int64")
        elif case.family == "lstm_classifier":
            self.net = nets["LSTMClassifier"](x, **c, **case.data)
            if c["num_classes"] == 2:
                self._binary()
                y = y.astype("float32")[:, None]
            else:
                self._categorical()
                y = y.astype("int64")
            if c.get("vocab_size"):
                x = x.astype("int64")
        elif case.family == "lstm_forecaster":
            self.net = nets["Forecaster"](x, y, **c)
            self.loss = F.mse_loss
            self.metric = lambda out, yb: (out - yb).abs().mean()
        elif case.family == "dcgan":
            self.generator = nets["Generator"](c["image_shape"], c["latent_dim"],
                                               c["generator_filters"])
            self.discriminator = nets["Discriminator"](c["image_shape"],
                                                       c["discriminator_filters"])
            self.net = torch.nn.ModuleDict({"generator": self.generator,
                                            "discriminator": self.discriminator})
            gan_adam = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-7)  # zoo's DCGAN default
            self.d_opt = torch.optim.Adam(self.discriminator.parameters(), **gan_adam)
            self.g_opt = torch.optim.Adam(self.generator.parameters(), **gan_adam)
        else:
            raise ValueError(case.family)
        if self.channels_first:
            x = np.ascontiguousarray(np.moveaxis(x, -1, 1))  # torch users' NCHW data
        # the data on the device once, as the zoo's torch loop holds it (zoo.backend.torch_loop)
        self.net.to(self.device)
        self.x = torch.from_numpy(x).to(self.device)
        self.y = None if y is None else torch.from_numpy(np.asarray(y)).to(self.device)
        if case.family != "dcgan":
            trainable = [p for p in self.net.parameters() if p.requires_grad]
            self.opt = torch.optim.Adam(trainable, **adam)

    def _binary(self):
        F = self.F
        self.loss = lambda logits, yb: F.binary_cross_entropy_with_logits(logits, yb)
        self.metric = lambda logits, yb: ((logits > 0).float() == yb).float().mean()
        self.output = self.torch.sigmoid

    def _categorical(self):
        F = self.F
        self.loss = F.cross_entropy
        self.metric = lambda logits, yb: (logits.argmax(-1) == yb).float().mean()
        self.output = lambda logits: F.softmax(logits, -1)

    @property
    def trainable_params(self):
        return int(sum(p.numel() for p in self.net.parameters() if p.requires_grad))

    def train_epoch(self, n=None):
        """One epoch over the first `n` samples (default: all)."""
        torch = self.torch
        n = len(self.x) if n is None else n
        if self.case.family == "dcgan":
            return self._gan_epoch(n)
        self.net.train()
        order = torch.randperm(n, device=self.device)
        total_loss = total_metric = 0.0
        for start in range(0, n, self.batch):
            index = order[start:start + self.batch]
            xb, yb = self.x[index], self.y[index]
            self.opt.zero_grad(set_to_none=True)
            out = self.net(xb)
            loss = self.loss(out, yb)
            loss.backward()
            self.opt.step()
            with torch.no_grad():
                total_loss = total_loss + loss.detach()
                total_metric = total_metric + self.metric(out, yb)
        steps = -(-n // self.batch)
        return float(total_loss) / steps, float(total_metric) / steps

    def _gan_epoch(self, n):
        """Per batch: a discriminator step on real + fresh fakes, then a generator step
        on fresh fakes (the zoo's DCGAN step)."""
        torch, F = self.torch, self.F
        g, d = self.generator, self.discriminator
        g.train()
        d.train()
        order = torch.randperm(n, device=self.device)
        latent, device = self.case.config["latent_dim"], self.device
        for start in range(0, n, self.batch):
            real = self.x[order[start:start + self.batch]] * (2 / 255) - 1
            b = len(real)
            with torch.no_grad():
                fakes = g(torch.randn(b, latent, device=device))
            logits = d(torch.cat([real, fakes]))
            d_loss = (F.binary_cross_entropy_with_logits(logits[:b], torch.ones(b, 1, device=device))
                      + F.binary_cross_entropy_with_logits(logits[b:],
                                                           torch.zeros(b, 1, device=device)))
            self.d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_opt.step()
            d.requires_grad_(False)
            logits = d(g(torch.randn(b, latent, device=device)))
            g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones(b, 1, device=device))
            self.g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_opt.step()
            d.requires_grad_(True)
        return float(d_loss.detach()), float(g_loss.detach())

    def prepare_inputs(self, x):
        """The twin's form of inference inputs (NCHW images, int64 token ids), in host
        memory: `infer` moves them to the device, as the zoo's `predict` moves its
        numpy input."""
        if self.channels_first and x.ndim == 4:
            x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
        if x.dtype == np.int32:
            x = x.astype("int64")
        return self.torch.from_numpy(x)

    def infer(self, x):
        torch = self.torch
        with torch.no_grad():
            x = x.to(self.device)
            if self.case.family == "dcgan":
                self.generator.eval()
                out = (self.generator(x) + 1) * 127.5
            else:
                self.net.eval()
                out = self.net(x)
                if hasattr(self, "output"):
                    out = self.output(out)
        return out.cpu().numpy()


def build_twin(case, device="cpu"):
    return Twin(case, device)


def torch_device(device):
    """torch's device name for the benchmark's `--device` ("cpu" or "gpu")."""
    return "cuda" if device == "gpu" else "cpu"


def sync(device):
    """Wait for the device's queued work (GPU kernels run asynchronously): every
    measurement ends here, so it times the work, not its queueing."""
    if device == "gpu" and "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()


# --------------------------------------------------------------------------------------
# Measurements. An item is one thing to time; a Bench builds and warms items up, then
# measures one on request. "what":
#   train           one fit() epoch (zoo) / one manual epoch (twin) -> seconds
#   predict, call   zoo inference at a batch size (predict / model(x, training=False))
#   infer           twin inference at a batch size
#   train_on_batch, train_step   torch only: Keras' per-step paths without fit()
#   kernel          forward+backward of the LSTM kernel comparison
# --------------------------------------------------------------------------------------
def item_id(worker, case, what, batch=None, threads=None):
    parts = [worker, case, what]
    if batch is not None:
        parts.append(f"b{batch}")
    if threads is not None:
        parts.append(f"t{threads}")
    return ":".join(parts)


THREADS_STEPS = 4  # convnet steps per measurement of the 1-vs-2-threads comparison
# The float-sequence LSTM's training, twice in the torch process, one model with
# FusedLSTM's kernels stored column-major (its default on torch), one row-major (the
# memory of keras.layers.LSTM's variables), measured one after the other
STORAGES = ("column_major", "row_major")
STORAGE_NOTICEABLE = 1.03  # a storage gain below this is within a run's spread here


# The phases of a run, measured one after the other, each in rounds of its own: the
# goal rows (the zoo's default configurations and their twins), then the A/B rows and
# sections. Between two measurements of a goal row each process then runs only goal
# items, whose twin counterparts run the same networks in the twin's process. In one
# phase, Keras' Python-loop LSTM (the kernel section's keras.layers.LSTM, which only
# the torch worker runs) slowed the torch worker's next float-sequence LSTM epoch, not
# the twin's.
PHASES = ("goal rows", "A/B rows and sections")


def plan_items(case_names, backends, scale="default", sections=True, phased=True):
    """All items of a run, in the order measured within a round of their phase (grouped
    by case so a case's zoo and twin measurements are close in time); `item["phase"]`
    indexes `PHASES` (always 0 when not `phased`: every item in the same rounds)."""
    all_cases = cases(scale)
    items = []

    def add(worker, case, what, batch=None, threads=None, variant=None, steps=None):
        ab_case = all_cases[case].is_variant if case in all_cases else True  # a section
        ab = ab_case or variant is not None or threads is not None or what != "train" \
            and what.startswith("train")  # train_on_batch, train_step
        items.append(dict(id=item_id(worker, case, what if variant is None else variant,
                                     batch, threads),
                          worker=worker, case=case, what=what, batch=batch,
                          threads=threads, variant=variant, steps=steps,
                          phase=int(ab and phased)))

    for name in case_names:
        case = all_cases[name]
        run_on = [b for b in backends if b in case.backends]
        if not run_on:
            continue
        add(TWIN, name, "train")
        for b in run_on:
            add(b, name, "train")
        for batch in case.infer_batches:
            add(TWIN, name, "infer", batch)
            for b in run_on:
                add(b, name, "call", batch)
                if b == "torch":
                    add(b, name, "call_nograd", batch)
                add(b, name, "predict", batch)
    if sections and "torch" in backends:
        if "mlp_classifier" in case_names:  # where Keras' per-step overhead shows most
            add("torch", "mlp_classifier", "train_on_batch")
            add("torch", "mlp_classifier", "train_step")
        if "convnet" in case_names:  # 2 intra-op threads vs 1, a shorter epoch
            for threads in (1, 2):
                add(TWIN, "convnet", "train", threads=threads, steps=THREADS_STEPS)
                add("torch", "convnet", "train", threads=threads, steps=THREADS_STEPS)
        if "lstm_floats" in case_names:  # FusedLSTM's kernels column- vs row-major
            for storage in STORAGES:
                add("torch", "lstm_floats", "train_storage", variant=storage)
        if any(all_cases[n].family == "lstm_classifier" for n in case_names):
            for variant, (worker, _) in LSTM_KERNEL_VARIANTS.items():
                add(worker, "lstm_kernel", "kernel", variant=variant)
    return sorted(items, key=lambda item: item["phase"])  # stable: case order kept


def _time_calls(fn, k, device="cpu"):
    start = time.perf_counter()
    for _ in range(k):
        fn()
    sync(device)
    return (time.perf_counter() - start) / k


class Bench:
    """Builds and measures the items of one worker: a Keras backend (`worker` is the
    current backend's name) or the twin (`worker == "twin"`)."""

    def __init__(self, worker, scale="default", target_s=0.05, max_calls=200, device="cpu"):
        self.worker, self.scale, self.device = worker, scale, device
        self.cases = cases(scale)
        self.target_s, self.max_calls = target_s, max_calls
        self.models, self.calls, self.fns = {}, {}, {}

    # -- building ------------------------------------------------------------------------
    def model(self, case_name):
        if case_name not in self.models:
            case = self.cases[case_name]
            self.models[case_name] = (build_twin(case, self.device) if self.worker == TWIN
                                      else build_zoo(case))
        return self.models[case_name]

    def trainable_params(self, case_name):
        model = self.model(case_name)
        return model.trainable_params if self.worker == TWIN else zoo_trainable_params(model)

    def _fn(self, item):
        """A no-argument callable doing one repetition of `item`, and its unit:
        ("samples", n) for training, ("calls", 1) otherwise."""
        what, case_name = item["what"], item["case"]
        if what == "kernel":
            return self._kernel_fn(item["variant"])
        case = self.cases[case_name]
        model = self.model(case_name)
        if what == "train":
            n = case.samples_on(self.worker)
            if item.get("steps"):
                n = case.batch * min(item["steps"], case.steps)
            if self.worker == TWIN:
                return functools.partial(model.train_epoch, n)
            x, y = make_data(case, case.samples)
            y = None if y is None else y[:n]
            return functools.partial(model.fit, x[:n], y, batch_size=case.batch, epochs=1,
                                     verbose=0)
        if what in ("train_on_batch", "train_step"):
            return self._per_step_fn(model, case, what)
        if what == "train_storage":
            return self._storage_fn(case, item["variant"])
        x = inference_inputs(case, item["batch"])
        if self.worker == TWIN:
            xt = model.prepare_inputs(x)
            return functools.partial(model.infer, xt)
        if what == "predict":
            return functools.partial(model.predict, x, batch_size=item["batch"], verbose=0)
        if what == "call":
            import keras

            return lambda: keras.ops.convert_to_numpy(model(x, training=False))
        if what == "call_nograd":  # torch only: the direct call without autograd
            import torch

            def call():
                with torch.no_grad():
                    return model(x, training=False).cpu().numpy()
            return call
        raise ValueError(what)

    def _per_step_fn(self, model, case, what):
        """All the epoch's batches through `train_on_batch` or Keras' `train_step`."""
        import keras

        x, y = make_data(case, case.samples)
        batches = [(x[i:i + case.batch], y[i:i + case.batch])
                   for i in range(0, len(x), case.batch)]
        if what == "train_on_batch":
            def run():
                for xb, yb in batches:
                    model.train_on_batch(xb, yb)
            return run
        tensors = [(keras.ops.convert_to_tensor(xb), keras.ops.convert_to_tensor(yb))
                   for xb, yb in batches]
        model.make_train_function()

        def run():
            for batch in tensors:
                model.train_step(batch)
        return run

    def _storage_fn(self, case, storage):
        """`fit` of a model of its own whose LSTM kernels are stored `storage`."""
        key = f"{case.name}:{storage}"
        if key not in self.models:
            model = build_zoo(case)
            if storage == "row_major":
                _store_lstm_kernels_row_major(model)
            self.models[key] = model
        x, y = make_data(case, case.samples)
        return functools.partial(self.models[key].fit, x, y, batch_size=case.batch,
                                 epochs=1, verbose=0)

    def _kernel_fn(self, variant):
        """Forward + backward of Embedding + LSTM + Dense(1) with a BCE loss (torch)."""
        import torch

        s = lstm_kernel_sizes(self.scale)
        rng = np.random.default_rng(SEED)
        padding = "pre" if variant.endswith("_pre") else "post"
        tokens = pad_tokens(rng, s["batch"], s["steps"], s["vocab"], padding)
        device = torch_device(self.device)
        labels = torch.as_tensor(rng.integers(0, 2, size=(s["batch"], 1)), dtype=torch.float32,
                                 device=device)
        bce = torch.nn.BCEWithLogitsLoss()
        if variant.startswith("twin_"):
            net = _twin_kernel_net(s, variant).to(device)
            x = torch.as_tensor(tokens, dtype=torch.int64, device=device)

            def step():
                net.zero_grad(set_to_none=True)
                bce(net(x), labels).backward()
            return step
        import keras

        from zoo.layers import FusedLSTM

        layer_cls = keras.layers.LSTM if variant.startswith("keras_") else FusedLSTM
        keras.utils.set_random_seed(SEED)
        inputs = keras.Input((s["steps"],), dtype="int32")
        h = keras.layers.Embedding(s["vocab"], s["embed"],
                                   mask_zero=not variant.endswith("_nomask"))(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(layer_cls(s["units"])(h)))
        if "_rowmajor" in variant:
            _store_lstm_kernels_row_major(model)
        x = torch.as_tensor(tokens, dtype=torch.int32, device=device)
        forward = functools.partial(model, training=True)  # Keras' call: layer by layer
        if variant.startswith("graph_"):  # the zoo's torch graph (ZooModel's call)
            from zoo.backend.torch_graph import TorchGraph

            graph = TorchGraph(model)

            def forward(x):
                return graph([x], training=True)[0]

        def step():
            for v in model.trainable_variables:
                v.value.grad = None
            bce(forward(x), labels).backward()
        return step

    # -- warm-up and measuring ---------------------------------------------------------------
    def prepare(self, item):
        """Build and warm up `item`; fix its repetitions per measurement."""
        fn = self._fn(item)
        with self._threads(item):
            fn()  # warm-up: builds, traces, compiles
            sync(self.device)
            if item["what"] == "train":
                k = 1  # one epoch per measurement
            else:
                t = _time_calls(fn, 1, self.device)
                k = int(min(self.max_calls, max(1, math.ceil(self.target_s / max(t, 1e-6)))))
        self.fns[item["id"]], self.calls[item["id"]] = fn, k
        return k

    def measure(self, item):
        """Seconds per repetition (one epoch for training, one call otherwise)."""
        fn, k = self.fns[item["id"]], self.calls[item["id"]]
        with self._threads(item):
            return _time_calls(fn, k, self.device)

    def _threads(self, item):
        return _TorchThreads(item.get("threads"))


class _TorchThreads:
    """Run with `n` torch intra-op threads, then restore (no-op when n is None)."""

    def __init__(self, n):
        self.n, self.before = n, None

    def __enter__(self):
        if self.n is not None:
            import torch

            self.before = torch.get_num_threads()
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        if self.n is not None:
            import torch

            torch.set_num_threads(self.before)


def keras_lstm_init(lstm):
    """Initialize a torch LSTM as Keras initializes its LSTM: Glorot-uniform input
    weights, orthogonal recurrent weights, zero biases but 1 for the forget gate
    (`unit_forget_bias`; torch's gate order i, f, g, o is Keras' i, f, c, o).

    The twin then computes on the values the zoo computes on. With torch's default
    initialization (forget-gate bias around 0) the gradient through a 200-step sequence
    decays into float32's subnormal range, which some CPUs compute many times slower:
    on the Intel Xeon of the 2026-12-02 run, forward + backward of the token LSTM took
    420 ms, and 48 ms with `torch.set_flush_denormal(True)`."""
    import torch

    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("weight_ih"):
                torch.nn.init.xavier_uniform_(param)
            elif name.startswith("weight_hh"):
                torch.nn.init.orthogonal_(param)
            elif name.startswith("bias_ih"):
                param.zero_()
                param[lstm.hidden_size:2 * lstm.hidden_size] = 1.0
            else:
                param.zero_()
    return lstm


def _store_lstm_kernels_row_major(model):
    """Give `model`'s LSTM kernels the row-major memory of keras.layers.LSTM's variables
    (values unchanged; FusedLSTM stores them column-major on torch). Before training: the
    optimizer's slots take the layout when the zoo's loop first builds its Adam step."""
    import keras

    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.LSTM):
            for v in (layer.cell.kernel, layer.cell.recurrent_kernel):
                v.value.data = v.value.detach().contiguous()


def _twin_kernel_net(s, variant):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(s["vocab"], s["embed"])
            self.lstm = keras_lstm_init(nn.LSTM(s["embed"], s["units"], batch_first=True))
            self.head = nn.Linear(s["units"], 1)

        def forward(self, x):
            if variant == "twin_packed":
                lengths = (x != 0).sum(1).cpu()
                h = nn.utils.rnn.pack_padded_sequence(self.emb(x), lengths, batch_first=True,
                                                      enforce_sorted=False)
            elif variant.startswith("twin_gather"):
                lengths = (x != 0).sum(1)
                if variant.endswith("_pre"):  # each row's tokens shifted to the front
                    steps = x.shape[1]
                    x = x.gather(1, (torch.arange(steps, device=x.device)[None]
                                     + (steps - lengths)[:, None])
                                 % steps)
                out, _ = self.lstm(self.emb(x))
                index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.shape[-1])
                return self.head(out.gather(1, index)[:, 0])
            else:
                h = self.emb(x)
            _, (h_n, _) = self.lstm(h)
            return self.head(h_n[0])

    torch.manual_seed(SEED)
    return Net()


# --------------------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------------------
def _versions():
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("keras", "torch", "tensorflow", "jax"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = getattr(module, "__version__", "?")
    return out


def _thread_report(worker):
    report = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    if "torch" in sys.modules:
        report["torch.get_num_threads()"] = sys.modules["torch"].get_num_threads()
    if worker == "tensorflow":
        import tensorflow as tf

        report["tf intra/inter-op threads"] = (
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())
    if worker == "jax":
        report["XLA_FLAGS"] = os.environ.get("XLA_FLAGS")
    return report


def _device_report(worker, device):
    """What this worker computes on, in words; raises when it is not `device`."""
    if worker in ("torch", TWIN):
        import torch

        if worker == "torch":
            from keras.src.backend.torch.core import get_device

            on_gpu = str(get_device()).startswith("cuda")
        else:
            on_gpu = device == "gpu" and torch.cuda.is_available()
        found = f"cuda: {torch.cuda.get_device_name(0)}" if on_gpu else "cpu"
    elif worker == "jax":
        import jax

        first = jax.devices()[0]
        on_gpu = first.platform == "gpu"
        found = f"gpu: {getattr(first, 'device_kind', first)}" if on_gpu else "cpu"
    else:
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        on_gpu = bool(gpus)
        found = f"gpu: {gpus[0].name}" if gpus else "cpu"
    if on_gpu != (device == "gpu"):
        raise RuntimeError(f"{worker} runs on {found}, not on the requested --device {device}")
    return found


def worker_main(worker, plan, scale, threads, device="cpu"):
    """Serve one process: build + warm up the plan's items for `worker`, print "ready",
    then answer each item id read from stdin with its time. JSON lines on the original
    stdout; anything else printed goes to stderr."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if threads:
        if worker in ("torch", TWIN):
            import torch

            torch.set_num_threads(threads)
        if worker == "tensorflow":
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
    if worker != TWIN:
        import keras

        import zoo  # noqa: F401

        assert keras.backend.backend() == worker, (keras.backend.backend(), worker)
    bench = Bench(worker, scale, device=device)
    where = _device_report(worker, device)
    items = {item["id"]: item for item in plan if item["worker"] == worker}
    params, calls, layers, layouts, warmup = {}, {}, {}, {}, {}
    for item in items.values():
        if item["what"] != "kernel":
            params[item["case"]] = bench.trainable_params(item["case"])
            if worker != TWIN:
                model = bench.model(item["case"])
                layers[item["case"]] = zoo_layer_count(model)
                layouts[item["case"]] = zoo_conv_layout(model)
        start = time.perf_counter()
        calls[item["id"]] = bench.prepare(item)
        warmup[item["id"]] = time.perf_counter() - start
    proto.write(json.dumps({"ready": True, "params": params, "calls": calls, "layers": layers,
                            "layouts": layouts, "warmup": warmup, "device": where,
                            "versions": _versions(), "threads": _thread_report(worker)})
                + "\n")
    for line in iter(sys.stdin.readline, ""):
        item_key = line.strip()
        if not item_key:
            continue
        proto.write(json.dumps({"id": item_key, "s": bench.measure(items[item_key])}) + "\n")


class _Worker:
    def __init__(self, name, plan, scale, threads, log_dir, device="cpu"):
        env = dict(os.environ)
        if device == "cpu":  # a GPU machine's GPUs hidden from every library
            env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                          env.get("PYTHONPATH")]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        if name != TWIN:
            env["KERAS_BACKEND"] = name
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
            if name == "jax" and threads == 1:
                flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
                env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + flags).strip()
        self.name = name
        self.log_path = Path(log_dir) / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", name,
             "--scale", scale, "--threads", str(threads or 0), "--device", device,
             "--plan", json.dumps(plan)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=env, cwd=REPO_ROOT,
        )

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.log.flush()
            tail = self.log_path.read_text()[-4000:]
            raise RuntimeError(f"worker {self.name} exited ({self.proc.returncode}):\n{tail}")
        return json.loads(line)

    def ask(self, item_key):
        self.proc.stdin.write(item_key + "\n")
        self.proc.stdin.flush()
        answer = self.read()
        assert answer["id"] == item_key, answer
        return answer["s"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        self.log.close()


# --------------------------------------------------------------------------------------
# The run: workers, rounds, medians
# --------------------------------------------------------------------------------------
def run(case_names, backends, rounds, threads, scale="default", sections=True, log=print,
        device="cpu", phased=True):
    plan = plan_items(case_names, backends, scale, sections, phased)
    names = [w for w in (TWIN, *backends) if any(i["worker"] == w for i in plan)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as log_dir:
        workers = {n: _Worker(n, plan, scale, threads, log_dir, device) for n in names}
        try:
            info = {}
            for name, worker in workers.items():
                info[name] = worker.read()
                log(f"  {name}: ready ({time.perf_counter() - started:.0f} s)")
            setup_s = time.perf_counter() - started
            times = {item["id"]: [] for item in plan}
            for phase, label in enumerate(PHASES):
                items = [item for item in plan if item.get("phase", 0) == phase]
                for r in range(rounds if items else 0):
                    # odd rounds in reverse order: what an item follows alternates (in a
                    # process the first measurement after other work runs colder)
                    for item in items if r % 2 == 0 else items[::-1]:
                        times[item["id"]].append(workers[item["worker"]].ask(item["id"]))
                    log(f"  {label}: round {r + 1}/{rounds} "
                        f"({time.perf_counter() - started:.0f} s)")
        finally:
            for worker in workers.values():
                worker.close()
    params, layers = {}, {}
    for name, answer in info.items():
        for case_name, count in answer["layers"].items():
            layers.setdefault(case_name, count)  # torch's count, where torch ran
        for case_name, count in answer["params"].items():
            params.setdefault(case_name, {})[name] = count
    for case_name, counts in params.items():
        if len(set(counts.values())) != 1:
            raise AssertionError(f"{case_name}: trainable parameter counts differ: {counts}")
    return dict(
        plan=plan, times=times, params=params, layers=layers, rounds=rounds, scale=scale,
        calls={n: a["calls"] for n, a in info.items()},
        layouts={n: a.get("layouts", {}) for n, a in info.items()},
        warmup={n: a.get("warmup", {}) for n, a in info.items()},
        versions={n: a["versions"] for n, a in info.items()},
        device=device, devices={n: a.get("device", "cpu") for n, a in info.items()},
        threads={n: a["threads"] for n, a in info.items()},
        setup_s=setup_s, wall_s=time.perf_counter() - started, phased=phased,
    )


def medians(result):
    return {key: statistics.median(values) for key, values in result["times"].items() if values}


def paired(result, numerator, denominator):
    """Median over rounds of times[numerator][r] / times[denominator][r]: a ratio of two
    measurements taken close together in the same round (robust to a machine whose load
    drifts during the run). None when either was not measured."""
    a, b = result["times"].get(numerator), result["times"].get(denominator)
    if not a or not b:
        return None
    return statistics.median(x / y for x, y in zip(a, b))


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
def machine():
    model, cores = "unknown", os.cpu_count()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return model, cores


def _fmt_rate(v):
    return "-" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def _fmt_ms(v):
    return "-" if v is None else (f"{v * 1e3:.2f}" if v < 0.01 else f"{v * 1e3:.1f}")


def _fmt_ratio(v, goal=None):
    if v is None:
        return "-"
    return f"{v:.2f}x" + (" **below goal**" if goal is not None and v < goal else "")


def tables(result):
    """Rows of the training and inference tables: medians of the times, and ratios to the
    twin paired within each round (None: not measured)."""
    med = medians(result)
    all_cases = cases(result["scale"])
    train_rows, infer_rows = [], []
    for item in result["plan"]:
        if item["what"] != "train" or item["worker"] == TWIN or item["threads"] is not None:
            continue
        case_name, backend = item["case"], item["worker"]
        case = all_cases[case_name]
        twin_id, zoo_id = item_id(TWIN, case_name, "train"), item["id"]
        zoo_n, twin_n = case.samples_on(backend), case.samples_on(TWIN)
        per_round = [zoo_n / twin_n * t / z for t, z in zip(result["times"][twin_id],
                                                            result["times"][zoo_id])]
        train_rows.append(dict(case=case_name, label=case.label, backend=backend,
                               variant=case.is_variant,
                               batch=case.batch, zoo=zoo_n / med[zoo_id],
                               twin=twin_n / med[twin_id],
                               ratio=zoo_n / twin_n * paired(result, twin_id, zoo_id),
                               spread=(min(per_round), max(per_round))))
        for batch in case.infer_batches:
            twin_id = item_id(TWIN, case_name, "infer", batch)
            row = dict(case=case_name, label=case.label, backend=backend, batch=batch,
                       twin=med.get(twin_id))
            for what in ("predict", "call", "call_nograd"):
                zoo_id = item_id(backend, case_name, what, batch)
                row[what] = med.get(zoo_id)
                row[f"{what}_ratio"] = paired(result, twin_id, zoo_id)
            infer_rows.append(row)
    return train_rows, infer_rows


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def train_table(rows):
    return _md_table(
        ["family", "backend", "batch", "zoo samples/s", "twin samples/s", "zoo / twin",
         "lowest - highest round"],
        [[r["label"], r["backend"], r["batch"], _fmt_rate(r["zoo"]), _fmt_rate(r["twin"]),
          _fmt_ratio(r["ratio"], GOALS["train"] if r["backend"] == "torch" else None),
          f"{r['spread'][0]:.2f} - {r['spread'][1]:.2f}"]
         for r in rows])


def infer_table(rows, batch):
    def ratio(r, key, goal=True):
        return _fmt_ratio(r[key], GOALS[batch] if goal and r["backend"] == "torch" else None)

    return _md_table(
        ["family", "backend", "twin ms", "zoo predict ms", "zoo call ms",
         "zoo call in no_grad ms", "predict: twin / zoo", "call: twin / zoo",
         "call in no_grad: twin / zoo"],
        [[r["label"], r["backend"], _fmt_ms(r["twin"]), _fmt_ms(r["predict"]),
          _fmt_ms(r["call"]), _fmt_ms(r["call_nograd"]), ratio(r, "predict_ratio"),
          ratio(r, "call_ratio", goal=False), ratio(r, "call_nograd_ratio")]
         for r in rows if r["batch"] == batch])


def section_numbers(result):
    """The measurements of the "what the zoo does for speed" and causes sections."""
    med = medians(result)
    all_cases = cases(result["scale"])
    out = {}

    def mid(*args, **kwargs):
        return item_id(*args, **kwargs)

    kernel_ids = {v: mid(w, "lstm_kernel", v) for v, (w, _) in LSTM_KERNEL_VARIANTS.items()}
    if all(i in med for i in kernel_ids.values()):
        out["kernel"] = {v: med[i] for v, i in kernel_ids.items()}
        out["kernel_vs"] = {  # speed relative to a torch.nn.LSTM reference, paired
            v: {ref: paired(result, kernel_ids[ref], i)
                for ref in ("twin_nomask", "twin_packed", "twin_gather", "twin_gather_pre")}
            for v, i in kernel_ids.items()}
        out["kernel_gain"] = {
            mask: paired(result, kernel_ids[f"keras_{mask}"], kernel_ids[f"fused_{mask}"])
            for mask in ("nomask", "post", "pre")}
        out["embed_gain"] = {  # the Embedding inside the FusedLSTM's step, paired
            mask: paired(result, kernel_ids[f"fused_{mask}"], kernel_ids[f"graph_{mask}"])
            for mask in ("post", "pre")}
        out["storage_gain"] = paired(result, kernel_ids["fused_rowmajor_nomask"],
                                     kernel_ids["fused_nomask"])  # column-major's speed
    column, row = (mid("torch", "lstm_floats", storage) for storage in STORAGES)
    if column in med and row in med:  # training, column-major's speed over row-major's
        out["storage_train_gain"] = paired(result, row, column)
    one, two = (mid("torch", "convnet", "train", threads=t) for t in (1, 2))
    if one in med and two in med:
        n = all_cases["convnet"].batch * min(THREADS_STEPS, all_cases["convnet"].steps)
        out["threads"] = {}
        for who, worker in (("zoo", "torch"), ("twin", TWIN)):
            one, two = (mid(worker, "convnet", "train", threads=t) for t in (1, 2))
            out["threads"][who] = (n / med[one], n / med[two], paired(result, two, one))
    keras_mlp = keras_loop_name("mlp_classifier")
    for key, before, after in (("layout", "convnet_cl", "convnet_cf"),
                               ("convnet_layers", "convnet_keras", "convnet"),
                               ("dcgan_layers", "dcgan_keras", "dcgan"),
                               ("jit", keras_mlp, "mlp_classifier_jit")):
        rows = _ab_rows(result, med, all_cases, before, after)
        if rows:
            out[key] = rows
    # the zoo's torch loop (after) against Keras' fit/predict/__call__ (before)
    for name in KERAS_LOOP_BASES:
        rows = _ab_rows(result, med, all_cases, keras_loop_name(name), name)
        if rows:
            out.setdefault("loop", {})[name] = rows
    jit, eager = mid("torch", "mlp_classifier_jit", "train"), mid("torch", keras_mlp, "train")
    warmup = result.get("warmup", {}).get("torch", {})
    if jit in warmup and eager in warmup:
        out["jit_warmup"] = (warmup[eager], warmup[jit])
    zoo_fit = mid("torch", "mlp_classifier", "train")
    if jit in med and zoo_fit in med:
        out["jit_vs_zoo"] = paired(result, jit, zoo_fit)  # gain of the zoo's loop
    # ms per training step of mlp_classifier: the zoo's fit, Keras' per-step paths, Keras'
    # fit (where its Keras-loop case ran) and the twin
    step_ids = {"fit": zoo_fit, "keras_fit": eager,
                "train_on_batch": mid("torch", "mlp_classifier", "train_on_batch"),
                "train_step": mid("torch", "mlp_classifier", "train_step"),
                "twin": mid(TWIN, "mlp_classifier", "train")}
    if eager not in med:
        del step_ids["keras_fit"]
    if all(i in med for i in step_ids.values()):
        steps = all_cases["mlp_classifier"].steps
        out["steps_batch"] = all_cases["mlp_classifier"].batch
        out["steps"] = {k: med[i] / steps for k, i in step_ids.items()}
        out["steps_vs_twin"] = {k: paired(result, i, step_ids["twin"])
                                for k, i in step_ids.items()}
    return out


def _ab_rows(result, med, all_cases, before, after):
    """(what, value before, value after, gain paired per round) on torch for two cases
    measured side by side: training samples/s, then the inference times both measured.
    None unless both cases' training was measured."""
    a, b = item_id("torch", before, "train"), item_id("torch", after, "train")
    if a not in med or b not in med:
        return None
    rows = [("training samples/s", all_cases[before].samples / med[a],
             all_cases[after].samples / med[b], paired(result, a, b))]
    for batch in INFER_BATCHES:
        for what in ("call", "predict"):
            a, b = (item_id("torch", c, what, batch) for c in (before, after))
            if a in med and b in med:
                rows.append((f"{what} batch {batch}, ms", med[a], med[b], paired(result, a, b)))
    return rows


def _ab_table(rows, before, after):
    return _md_table(["", before, after, f"gain of {after}"],
                     [[label, _fmt_rate(a) if "samples" in label else _fmt_ms(a),
                       _fmt_rate(b) if "samples" in label else _fmt_ms(b), _fmt_ratio(g)]
                      for label, a, b, g in rows])


def print_tables(result, log=print):
    train_rows, infer_rows = tables(result)
    log("\nTraining (samples/s, medians; zoo/twin >= 0.9 is the goal on torch)\n")
    log(train_table(train_rows))
    for batch in INFER_BATCHES:
        log(f"\nInference at batch {batch} (ms per call; twin/zoo >= {GOALS[batch]} is the "
            "goal on torch)\n")
        log(infer_table(infer_rows, batch))
    numbers = section_numbers(result)
    if "kernel" in numbers:
        log("\nLSTM forward+backward (ms):")
        for variant, seconds in numbers["kernel"].items():
            log(f"  {LSTM_KERNEL_VARIANTS[variant][1]:55s} {seconds * 1e3:8.1f}")
    if "threads" in numbers:
        t = numbers["threads"]
        log(f"\nconvnet training samples/s, torch threads 1 vs 2: zoo {t['zoo'][0]:.0f} vs "
            f"{t['zoo'][1]:.0f}; twin {t['twin'][0]:.0f} vs {t['twin'][1]:.0f}")
    if "steps" in numbers:
        log("\nmlp_classifier ms per training step on torch (fit: the zoo's loop; "
            "train_on_batch, train_step, keras_fit: Keras'): " + ", ".join(
                f"{k} {v * 1e3:.2f}" for k, v in numbers["steps"].items()))
    for name, rows in numbers.get("loop", {}).items():
        log(f"\n{name}, Keras' fit/predict -> the zoo's torch loop: " + "; ".join(
            f"{label} {_fmt_ratio(gain)}" for label, _, _, gain in rows))


def _code_version():
    """The git commit the run used, and whether the working tree had changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "zoo")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"commit {commit}" + (" with uncommitted changes under zoo/" if dirty else "")


def _torch_sees_a_gpu():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _command_line(argv):
    env = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if os.environ.get(
        "OMP_NUM_THREADS") else ""
    return env + "python scripts/benchmark.py" + ("" if not argv else " " + shlex.join(argv))


def _run_details(result, command, machine_text):
    """The run's command, code, date, machine and versions, as list items."""
    versions = {}
    for per_worker in result["versions"].values():
        versions.update(per_worker)
    lines = [f"- Command: `{command}`"]
    if result.get("code"):
        lines.append(f"- Code: {result['code']}")
    lines += [f"- Date: {result['date']}; {result['rounds']} rounds; build and warm-up "
              f"{result['setup_s']:.0f} s, whole run {result['wall_s']:.0f} s",
              f"- Machine: {machine_text}",
              "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())]
    return lines


def render_doc(result, command, gpu_section=None):
    """The page for a CPU run; `gpu_section` (the "## GPU" section of an earlier GPU run,
    see `write_doc`) ends it, or a note that no GPU run is recorded."""
    train_rows, infer_rows = tables(result)
    numbers = section_numbers(result)
    numbers["train_rows"], numbers["infer_rows"] = train_rows, infer_rows
    cpu, cores = machine()
    all_cases = cases(result["scale"])
    lines = []
    add = lines.append
    add("# Performance\n")
    add("Generated by `scripts/benchmark.py`: every number on this page comes from the one "
        "run whose command is given below; rerun it to regenerate the page.\n")
    add("## The run\n")
    lines += _run_details(result, command,
                          f"{cpu}, {cores} cores, CPU only, shared with other processes "
                          "while it ran: absolute numbers drift, read the ratios (measured "
                          "side by side)")
    add("- Threads (`--threads`): " + "; ".join(
        f"{name}: " + ", ".join(f"{k}={v}" for k, v in report.items())
        for name, report in result["threads"].items()))
    add("")
    add("## Method\n")
    add("- **zoo**: the zoo model, `adapt()`-ed and `compile()`-d with its defaults (Adam, "
        "learning rate 1e-3; the DCGAN: Adam 2e-4, beta_1 0.5, per network), trained by "
        "`model.fit(x, y, batch_size=..., epochs=1, verbose=0)` on numpy arrays; one "
        "measurement is one `fit()` call (one epoch, its set-up included). On torch "
        "`fit`, `predict` and the direct call run the zoo's torch loop (eager; see \"The "
        "zoo's torch loop\" below), except in the rows marked \"Keras' fit/predict\", "
        "built with `native_torch_loop = False`, which run Keras' own (the DCGAN trains "
        "with its own GAN step through Keras' `fit`; its `predict` and call run the "
        "zoo's path). Keras' defaults elsewhere: eager on torch, `tf.function` "
        "without XLA on TensorFlow (Keras' choice on a CPU-only machine), `jax.jit` on "
        "JAX.")
    add("- **twin**: plain `torch.nn` modules with the same layers and the same number of "
        "trainable parameters (asserted; torch's LSTM has a second bias vector, which the "
        "twin freezes at zero; its LSTMs start from Keras' LSTM initialization, "
        "`keras_lstm_init`: with torch's default the token twin's gradient through 200 "
        "steps decays into float32's subnormal range, which made it 5x slower on an Intel "
        "CPU), a manual loop over shuffled batches with `torch.optim.Adam` "
        "(same learning rate and epsilon), tracking the loss and the zoo model's default "
        "metric. Images NCHW (torch's layout); losses from logits (`cross_entropy`, "
        "`binary_cross_entropy_with_logits`); token sequences run padded through "
        "`nn.LSTM`, each sequence's output taken at its last token (pre-padded rows first "
        "shifted to the front): what Keras computes with `mask_zero=True`.")
    add("- Same synthetic data (seed 0) and batch size for both. Inference: "
        "`model.predict(x, batch_size=len(x), verbose=0)` (the user path), the direct call "
        "`model(x, training=False)`, and on torch the direct call inside `torch.no_grad()`, "
        "outputs converted to numpy; the twin in eval mode under `torch.no_grad()`, also "
        "converted to numpy.")
    if result.get("phased", False):
        alternation = (
            "then measurements alternate, in two phases one after the other: first the goal "
            "rows (the zoo's default configurations, each beside its twin), then the A/B rows "
            "and the sections below. Every round of a phase measures each of its "
            "configurations once, zoo next to twin, in a fixed order, reversed in every "
            "second round: in a process the first measurement after other work runs "
            "colder, and so each configuration follows each of its neighbours. Between two "
            "measurements of a goal row every process thus runs only goal items, and the "
            "twin's process the same networks as the backends' (measured in one phase, "
            "`--one-phase`, Keras' Python-loop LSTM of the kernel section, which only the "
            "torch process runs, slowed the torch process' next epoch of the float-sequence "
            "LSTM and not the twin's).")
    else:
        alternation = ("then measurements alternate: every round measures every "
                       "configuration once, in a fixed order, zoo next to twin.")
    add("- Each backend and the twin run in their own process. All processes build and warm "
        f"up first (excluded), {alternation} Times and rates are medians over the rounds; a "
        "ratio is the median over rounds of the ratio of the two measurements of the same "
        "round (so it can differ a little from the ratio of the medians).")
    add("- Ratios are speeds relative to the twin (training: zoo samples/s / twin samples/s; "
        "inference: twin time / zoo time): above 1, the zoo is faster.")
    add("")
    add("Sizes, as in the recipes and the keras-io examples:\n")
    size_rows = []
    for name, case in all_cases.items():
        if name not in result["params"]:
            continue
        counts = set(result["params"][name].values())
        data = ", ".join(f"{k}={v}" for k, v in case.data.items())
        config = ", ".join(f"{k}={v}" for k, v in case.config.items())
        steps = ", ".join([str(case.steps)] + [f"{b}: {n}" for b, n in case.steps_on.items()])
        size_rows.append([case.label, f"`{config}`" + (f" ({data})" if data else ""),
                          case.batch, steps, f"{counts.pop():,}",
                          result.get("layers", {}).get(name, "-")])
    add(_md_table(["family", "zoo config", "batch", "steps per measurement",
                   "trainable params (zoo = twin)", "Keras layers (torch)"], size_rows))
    add("\nToken ids: random, lengths from a tenth of the window to the window (about half "
        "fill it), padded with 0 in front (`pre`: what `keras.utils.pad_sequences` and "
        "`zoo.data`'s IMDB loader produce, as in the keras-io example) or at the end "
        "(`post`).\n")
    add("## Training\n")
    add(train_table(train_rows))
    add("")
    for batch in INFER_BATCHES:
        add(f"## Inference, batch {batch}\n")
        add(infer_table(infer_rows, batch))
        add("")
    add(_speed_section(numbers, result))
    add(_shortfall_section(train_rows, infer_rows, numbers,
                           result.get("layouts", {}).get("torch", {})))
    add((gpu_section or NO_GPU_SECTION).rstrip() + "\n")
    return "\n".join(lines)


GPU_HEADING = "## GPU"
GPU_MEASURED = f"{GPU_HEADING}\n\nMeasured on"  # how a GPU run's section starts
NO_GPU_SECTION = (
    f"{GPU_HEADING}\n\nNo GPU run of this script is recorded: this page has no GPU numbers. "
    "On a machine with a CUDA GPU, `python scripts/benchmark.py --device gpu` (the "
    "default `--device auto` picks the GPU there) measures the same cases there and "
    "writes its tables into this section, leaving the CPU sections above as they are.\n")


def split_gpu_section(text):
    """(the page before its "## GPU" section, that section or None)."""
    marker = f"\n{GPU_HEADING}\n"
    at = text.find(marker)
    if at < 0:
        return text, None
    return text[:at + 1], text[at + 1:]


def render_gpu_section(result, command):
    """The "## GPU" section for a run with `--device gpu`: its own run details, the
    training and inference tables and the goal table (the method is the CPU run's)."""
    train_rows, infer_rows = tables(result)
    gpus = sorted({d for d in result["devices"].values() if d != "cpu"})
    lines = [f"{GPU_MEASURED} {', '.join(gpus)}.\n"]
    add = lines.append
    cpu, cores = machine()
    where = "; ".join(f"{name}: {on}" for name, on in result["devices"].items())
    lines += _run_details(result, command, f"{cpu}, {cores} cores; each process on: {where}")
    add("- Method: as in \"Method\" above, on the GPU: the twin's modules and its "
        "training data on the GPU (the data moved there once, as the zoo's torch loop "
        "holds arrays that fit `zoo.backend.torch_loop.WHOLE_ON_DEVICE_BYTES`), "
        "inference inputs copied from host memory in every timed call and outputs read "
        "back to numpy, for the twin as for the zoo; every measurement ends with "
        "`torch.cuda.synchronize()`. Only the zoo's default configurations unless "
        "`--cases` names others; the CPU-only sections (threads, LSTM kernels, per-step "
        "paths) are not run.")
    add("")
    add("### Training\n")
    add(train_table(train_rows))
    for batch in INFER_BATCHES:
        add(f"\n### Inference, batch {batch}\n")
        add(infer_table(infer_rows, batch))
    table, short, total = _goal_table(train_rows, infer_rows)
    if total:
        add("\n### Goals on torch\n")
        add(f"Training >= {GOALS['train']}x the twin; inference >= {GOALS[256]}x at batch "
            f"256 and >= {GOALS[1]}x at batch 1 (the zoo's defaults; **below goal** "
            "marked):\n")
        add(table)
        add(f"\n{short} of {total} torch ratios are below the goal on the GPU.")
    return "\n".join(lines) + "\n"


def write_doc(path, result, command):
    """Write the run into the page at `path`: a CPU run renders the page and keeps the
    page's recorded GPU section; a GPU run replaces only that section. Written to a
    temporary file, then renamed."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    before, old_gpu = split_gpu_section(old)
    if result["device"] == "gpu":
        head = before if before.strip() else (
            "# Performance\n\nNo CPU run of `scripts/benchmark.py` is recorded on this "
            "page.\n\n")
        page = head.rstrip() + "\n\n" + render_gpu_section(result, command)
    else:
        recorded = old_gpu if old_gpu and old_gpu.startswith(GPU_MEASURED) else None
        page = render_doc(result, command, gpu_section=recorded)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page)
    os.replace(tmp, path)


def _loop_subsection(numbers, result):
    """Lines of "The zoo's torch loop" (first in "What the zoo does for speed")."""
    loop = numbers.get("loop")
    if not loop:
        return []
    all_cases = cases(result["scale"])
    lines = ["### The zoo's torch loop (`fit`, `evaluate`, `predict`, `__call__` on torch)\n"]
    add = lines.append
    add("On the torch backend `ZooModel.fit`, `evaluate`, `predict` and the direct call "
        "`model(x)` run the zoo's own code (zoo/backend/fast_path.py and the `torch_*` "
        "modules beside it) in place of Keras'. The model's functional graph is walked "
        "once; afterwards each layer's computation runs directly, without Keras' "
        "per-layer `Layer.__call__` machinery (the common layers, `Dense`, `Dropout`, "
        "`Normalization`, `Embedding`, `Flatten`, `Reshape`, `Permute`, `Add`, "
        "`Rescaling`, channels-first `MaxPooling2D`, the zoo's `FusedLSTM`, `Conv2D` "
        "and `Conv2DTranspose` and the "
        "`ids != 0` op Keras records for `Embedding(mask_zero=True)`'s mask, as direct "
        "torch code; the others through their own `call`). The numpy arrays become "
        "tensors once and a batch is an index into them, in place of Keras' "
        "DataLoader-based epoch iterator; batch callbacks run only when some callback "
        "defines them, in place of Keras' thread-pool dispatch after every batch; the "
        "training step computes Keras' loss, metrics and optimizer update from the "
        "compiled objects. Keras' `CallbackList`, `History`, progress bar and validation "
        "are kept, and training gives the weights and history Keras' `fit` gives, up to "
        "float rounding (Adam runs torch's fused kernel with Keras' rule; tested, "
        "tests/training/test_torch_loop.py). Whatever the loop does not cover (other "
        "backends, datasets, sample weights, a custom train step, several outputs, "
        "regularizer losses, layers not in float32, a Keras release without one of the "
        "Keras internals the loop reads, listed and checked in "
        "zoo/backend/keras_internals.py, ...) runs Keras' own methods. "
        "`model.native_torch_loop = False` switches it off (Keras' `fit`, `evaluate`, "
        "`predict` and `__call__` run); after each call `model.fit_path`, "
        "`model.evaluate_path` and `model.predict_path` say which path ran: "
        "`\"zoo torch loop\"` or `\"keras (<reason>)\"`. The DCGAN trains with its own "
        "GAN step through Keras' `fit`; its `predict`, call and `generate` run its "
        "sampler network's graph on this path.\n")
    add("Predicted: in a `cProfile` of Keras' torch train step for the MLP, Keras' "
        "per-layer `__call__` machinery, its loss and metric objects, the optimizer's "
        "bookkeeping, the DataLoader per batch and the per-batch thread-pool callback "
        "dispatch were most of a step that took several times the twin's. Removing them "
        "should bring the MLPs close to the twin, help the small LSTMs and the forecaster "
        "less (their torch kernels are a larger share of a step) and the convnet little "
        "(its convolutions dominate). At batch 1, `predict` and the direct call should "
        "gain most: there `predict`'s per-call set-up and the per-layer costs are most of "
        "the time.\n")
    add("Each `fit` call also skips Keras' `_symbolic_build` when there is nothing left "
        "to build (commit 4cf9860): on torch it re-made the model's torch `ParameterDict` "
        "on every call. Predicted: a fraction of a millisecond per `fit` call (it showed "
        "in a `cProfile` of one-step epochs), seen only in short epochs; not measured on "
        "its own (the float-sequence LSTM's training row moved with the FusedLSTM storage "
        "and the benchmark's phases, below, in the same commits).\n")
    if result.get("phased", False):
        when = ("in the same run; the Keras-loop rows in the A/B phase, each paired with its "
                "base row's measurement of the same round")
    else:
        when = "side by side; gain paired per round"
    add(f"Measured (torch; the same model with `native_torch_loop = False`, {when}):\n")
    for name, rows in loop.items():
        add(f"{all_cases[name].label}:\n")
        add(_ab_table(rows, "Keras' fit/predict/call", "zoo torch loop"))
        add("")
    ratios = {r["case"]: r["ratio"] for r in numbers.get("train_rows", [])
              if r["backend"] == "torch"}
    pairs = [(all_cases[n].label, ratios[keras_loop_name(n)], ratios[n]) for n in loop
             if n in ratios and keras_loop_name(n) in ratios]
    if pairs:
        add("Training speed relative to the twin (training table), Keras' `fit` -> the "
            "zoo's loop: " + "; ".join(f"{label} {_fmt_ratio(a)} -> {_fmt_ratio(b)}"
                                         for label, a, b in pairs) + ".\n")
    return lines


def _storage_paragraph(numbers, scale):
    """The FusedLSTM kernels' column-major storage on torch: what it is, predicted, measured."""
    floats = {r["case"]: r["ratio"] for r in numbers.get("train_rows", [])
              if r["backend"] == "torch"}.get("lstm_floats")
    text = ("The kernels' storage (commit 2bd955e): torch's kernel reads the weights as "
            "row-major (4u, input_dim) and (4u, u) matrices, Keras keeps (input_dim, 4u) and "
            "(u, 4u). Handed the transposes of row-major variables, mkldnn copied them to "
            "contiguous matrices in the forward and again in the backward pass, and the "
            "fused Adam step copied the transposed gradients. FusedLSTM now stores its "
            "kernels column-major on torch (zoo/backend/torch_storage.py): the same values, "
            "shapes, `get_weights()` and files, and their transposes are the matrices the "
            "kernel reads; the zoo's Adam slots take the same strides. Predicted: a few "
            "percent of a small LSTM's training step (in a torch.profiler trace of the "
            "float-sequence LSTM's step the copies showed beside the kernel's own work), "
            "less of a long sequence's, where the arithmetic grows with the steps and the "
            "copies do not. Measured, column-major's speed over row-major's, paired per "
            "round: ")
    if numbers.get("storage_train_gain") is not None:
        case = cases(scale)["lstm_floats"]
        text += (f"{numbers['storage_train_gain']:.2f}x in training (the float-sequence "
                 f"LSTM's `fit`, batch {case.batch} x {case.config['sequence_length']} "
                 "steps, two models in the torch process measured one after the other); ")
    text += (f"{numbers['storage_gain']:.2f}x in the forward + backward pass of the "
             f"{lstm_kernel_sizes(scale)['steps']}-step token LSTM (the two FusedLSTM "
             "no-mask rows above)")
    if floats is not None:
        text += (f"; the float-sequence LSTM trains at {floats:.2f}x the twin (0.89x in the "
                 "run of commit 57f8f94, before the change, which also measured every "
                 "configuration in one phase)")
    gains = [g for g in (numbers.get("storage_train_gain"), numbers["storage_gain"])
             if g is not None]
    if max(gains) < STORAGE_NOTICEABLE:
        text += (". No gain shows in this run (the pairs are within this machine's "
                 "round-to-round spread); the storage is kept for what it removes: the "
                 "copies, and on CUDA the contiguous copy of each kernel that cuDNN "
                 "takes on every call (not measured: no GPU run yet)")
    return text + ".\n"


def _speed_section(numbers, result):
    lines = ["## What the zoo does for speed\n",
             "Each measure, the gain predicted before measuring (reasoning, no number) and "
             "the gain this run measured.\n"]
    add = lines.append
    lines += _loop_subsection(numbers, result)
    if "kernel" in numbers:
        k, vs = numbers["kernel"], numbers["kernel_vs"]
        s = lstm_kernel_sizes(result["scale"])
        add("### FusedLSTM (`zoo.layers.FusedLSTM`, in every zoo LSTM)\n")
        add("On the torch backend Keras runs `keras.layers.LSTM` on the CPU as a Python loop "
            "over time steps. FusedLSTM keeps Keras' weights and runs torch's fused LSTM "
            "kernel (the one behind `torch.nn.LSTM`), also with padded masks: right-padded "
            "(`Embedding(mask_zero=True)` on post-padded data: the padded batch runs "
            "through the kernel and each sequence's last output is gathered) and "
            "left-padded (pre-padded data, `keras.utils.pad_sequences`' default and the "
            "zoo's IMDB loader: each row's valid steps are first shifted to the front, one "
            "gather of the embedded inputs, and the outputs shifted back). Other masks "
            "(holes, a row padded on both sides, a fully masked row) fall back to Keras' "
            "loop.\n")
        add("Predicted: several times faster than `keras.layers.LSTM` (one C++ kernel call "
            f"instead of {s['steps']} Python-level steps of small ops); as fast as "
            "`torch.nn.LSTM` without a mask; faster than torch's packed sequences with a "
            "mask (torch's packed CPU kernel has a slow backward). Left-padded masks "
            "(added after the first version, which ran Keras' loop on them): the same gain "
            "as right-padded ones, less the shift (a copy of the embedded batch, forward "
            "and backward, beside an LSTM's arithmetic: a few percent). Gathering the "
            "shifted inputs straight into the kernel's time-major layout (the kernel "
            "otherwise copies a batch-first input into it; commit c7aca74) saves one of "
            "the copies: predicted a few percent of a masked LSTM step; measured: the "
            "pre-padded FusedLSTM row below against its torch.nn.LSTM twin (0.87x in the "
            "run of commit 5cf4f87, the commit before, on the same machine).\n")
        add(f"Measured: forward + backward of Embedding({s['vocab']}, {s['embed']}) + "
            f"LSTM({s['units']}) + Dense(1), BCE loss, batch {s['batch']} x {s['steps']} "
            "steps, on torch (speeds relative to the torch.nn.LSTM rows, paired per "
            "round; a pre-padded row against the torch.nn.LSTM that shifts its token ids "
            "to the front first):\n")
        rows = []
        for variant, (_, description) in LSTM_KERNEL_VARIANTS.items():
            masked = not variant.endswith("_nomask")
            gather = "twin_gather_pre" if variant.endswith("_pre") else "twin_gather"
            rows.append([description, f"{k[variant] * 1e3:.1f}",
                         "" if masked else _fmt_ratio(vs[variant]["twin_nomask"]),
                         _fmt_ratio(vs[variant]["twin_packed"])
                         if masked and gather == "twin_gather" else "",
                         _fmt_ratio(vs[variant][gather]) if masked else ""])
        add(_md_table(["implementation", "ms", "vs torch.nn.LSTM, no mask",
                       "vs packed torch.nn.LSTM", "vs torch.nn.LSTM padded + gather"], rows))
        gain = numbers["kernel_gain"]
        add(f"\nMeasured gain of FusedLSTM over keras.layers.LSTM: {gain['nomask']:.1f}x "
            f"without a mask, {gain['post']:.1f}x with a post-padded mask, "
            f"{gain['pre']:.1f}x with a pre-padded mask.")
        tokens = {r["case"]: r["ratio"] for r in numbers.get("train_rows", [])
                  if r["backend"] == "torch"}
        if {"lstm_tokens_pre", "lstm_tokens_post"} <= tokens.keys():
            add(f"In the training table the zoo's token classifier reaches "
                f"{tokens['lstm_tokens_post']:.2f}x the twin on post-padded data and "
                f"{tokens['lstm_tokens_pre']:.2f}x on pre-padded data (0.31x pre-padded "
                "in the run before left-padded masks were fused, commit 2e9e18c).")
        add("")
        add(_storage_paragraph(numbers, result["scale"]))
        lines += _embedding_inside_lstm_subsection(numbers)
    if "convnet_layers" in numbers or "dcgan_layers" in numbers:
        add("### zoo.layers `Conv2D`, `Conv2DTranspose`, `BatchNormalization` (convnet, DCGAN)\n")
        add("Keras' torch backend adds a convolution's bias and applies its activation as "
            "separate operations; computes a transposed convolution's largest output and "
            "slices Keras' window out of it (a strided view that every later layer reads "
            "slowly, and a copy in the batch norm's backward); and builds batch "
            "normalization from about ten elementwise operations and reductions. The zoo's "
            "layers are Keras' (subclasses, same arguments, weights and files; on "
            "TensorFlow and JAX Keras' own code runs) and on torch: the bias inside torch's "
            "convolution kernel and a ReLU activation in place; torch's `padding`/"
            "`output_padding` giving Keras' transposed-convolution window directly; "
            "torch's batch-norm kernel, with Keras' moving-average rule. Tested against "
            "Keras' layers (outputs, gradients, moving statistics; tests/layers).\n")
        add("Predicted: the bias add and the ReLU are each a pass over a convolution's "
            "output, the largest tensors of a convnet, so a tenth or two of a convnet's "
            "forward pass; the batch norm, several passes each way over the generator's "
            "activations, a larger share of the DCGAN's step.\n")
        add("Measured (torch; the same model built with Keras' layers, side by side; gain "
            "paired per round):\n")
        for key, name in (("convnet_layers", "convnet"), ("dcgan_layers", "dcgan")):
            if key in numbers:
                add(f"{name}:\n")
                add(_ab_table(numbers[key], "Keras layers", "zoo.layers"))
                add("")
        add("Building the DCGAN's networks channels_first on torch (as the convnet) was "
            "tried as well and not kept: with these layers it measured no faster than "
            "channels-last within this machine's noise (a few percent, either way, over "
            "alternated rounds), and it adds two transposing layers per network.\n")
        add("Inside the zoo's torch graph (commit 5b78756) the two convolution layers run "
            "as functions prepared once per layer (the permutations, paddings and "
            "options worked out at graph build, the weights read directly), in place of "
            "the layer's `call`, which converts its input and weights through Keras and "
            "checks the backend on every call. Predicted: tens of microseconds per "
            "convolution layer and call, visible at batch 1 only.")
        lines[-1] += _predict_at_batch_one(
            numbers, "convnet", "the convnet",
            before="0.30 ms, 0.63x in the run of commit c892296, before it")
        add("")
    if "jit" in numbers:
        rows = numbers["jit"]
        add("### `jit_compile=True` on torch (measured, not adopted)\n")
        add("Keras compiles the training step with `torch.compile` when `compile(jit_compile="
            "True)` on torch.\n")
        add("Predicted: a large gain for the MLPs if the whole step (forward, loss, "
            "backward, optimizer) were captured in one graph, since Keras' per-layer Python "
            "work would vanish; a loss if Dynamo breaks the graph at Keras' Python "
            "machinery.\n")
        add("Measured (mlp_classifier, torch, both through Keras' `fit` with "
            "`native_torch_loop = False`: `jit_compile` compiles Keras' train step; gain "
            "paired per round):\n")
        add(_ab_table(rows, "eager (Keras' default)", "jit_compile=True"))
        if "jit_warmup" in numbers:
            eager, jit = numbers["jit_warmup"]
            add(f"\nWarm-up (first `fit()` call): eager {eager:.1f} s, jit_compile "
                f"{jit:.1f} s.")
        if numbers.get("jit_vs_zoo") is not None:
            add(f"\nThe zoo's torch loop (eager; the `mlp_classifier` row) trains "
                f"{_fmt_ratio(numbers['jit_vs_zoo'])} as fast as the jit_compile=True step.")
        add("\nCompiling even the model's forward pass alone (`torch.compile` of "
            "`model(x, training=True)`) broke the graph inside Keras (TensorFlow's "
            "`executing_eagerly` reached through Keras' preprocessing layers, dict "
            "mutations in Keras' layer bookkeeping, imports), and ran slower than eager: "
            "the compiled step is many small graphs with guards between them. Not "
            "adopted.\n")
    add("### Measures considered and not taken\n")
    add("- `steps_per_execution > 1` (several batches per step call): Keras' torch trainer "
        "refuses it (\"`steps_per_execution` must be 1 with the PyTorch backend\").")
    add("- A lighter `Normalization` layer in the MLPs: not needed as a layer of its own. "
        "Inside the zoo's torch graph `Normalization` is lowered to direct torch code (a "
        "subtraction and a division), as `Dense` is; through Keras' own path it still "
        "costs a whole Keras layer call.")
    add("- `torch.no_grad()` inside the direct call: on torch `ZooModel.__call__` runs the "
        "zoo's graph but, as Keras' call does, leaves gradient tracking on, since a caller "
        "may differentiate through `model(x)`; `predict` runs without it. The no_grad "
        "columns measure what wrapping the call in `torch.no_grad()` gives.")
    add("")
    if "threads" in numbers:
        t = numbers["threads"]
        add("### One intra-op thread (`OMP_NUM_THREADS=1`, `--threads`)\n")
        add("The models are small; on this shared 2-core machine torch's OpenMP threads wait "
            "for each other whenever another process holds a core.\n")
        add("Predicted: a large gain on a busy machine, little or none on an idle one.\n")
        add(f"Measured: convnet training ({THREADS_STEPS} steps per measurement), 2 threads "
            "set by `torch.set_num_threads(2)` around the measurement, alternated with 1 "
            "thread:\n")
        add(_md_table(["samples/s", "1 thread", "2 threads", "gain of 1 thread"], [
            [label, f"{t[who][0]:,.0f}", f"{t[who][1]:,.0f}", _fmt_ratio(t[who][2])]
            for label, who in (("zoo convnet (torch)", "zoo"), ("twin convnet", "twin"))]))
        add("")
    if "layout" in numbers:
        default = result.get("layouts", {}).get("torch", {}).get("convnet")
        add("### convnet `data_format=\"channels_first\"` on torch\n")
        add("`zoo.ConvNet(data_format=...)` chooses how the convolutions run inside (inputs "
            "stay channels-last, the weights are the same). With channels_last Keras' torch "
            "backend transposes to NCHW and back around every convolution and pooling; "
            "channels_first transposes once, at the input. "
            + (f"In this run `data_format=None` (the `convnet` rows) ran {default} on torch."
               if default else "") + "\n")
        add("Predicted: a modest gain (the transposes are memory copies beside the "
            "convolutions' arithmetic).\n")
        add("Measured (torch; gain paired per round):\n")
        add(_ab_table(numbers["layout"], "channels_last", "channels_first"))
        add("")
    return "\n".join(lines)


def _embedding_inside_lstm_subsection(numbers):
    """The torch graph's pairing of an Embedding with the FusedLSTM that reads it."""
    gain = numbers["embed_gain"]
    lines = ["### The Embedding inside the FusedLSTM's step (the zoo's torch graph)\n",
             "Where an `Embedding`'s output is read only by a FusedLSTM (the zoo's token "
             "classifiers, bidirectional ones aside), the zoo's torch graph "
             "(zoo/backend/torch_graph.py, `_embed_in_reader`) runs the embedding inside "
             "the LSTM's step: a padded batch's token ids are shifted to the front "
             "(pre-padded) and cut to the longest sequence, then embedded straight into "
             "the kernel's time-major layout, in place of shifting the embedded features "
             "and of the kernel's own batch-first-to-time-major copy. The mask is still "
             "computed from the ids; through Keras' own call the layers run one by one, "
             "as before.\n",
             "Predicted (commit 001f3dc): shifting ids (one integer per step) instead of "
             "features (64 floats per step) removes a gather of the embedded batch and its "
             "scatter in the backward pass, and the embedding's gather lays out the "
             "kernel's input, which removes the kernel's copy: pre-padded data as fast as "
             "post-padded, both faster than the twin's batch-first `nn.LSTM`, by about a "
             "copy or two of the embedded batch beside the LSTM's arithmetic.\n",
             f"Measured (the forward + backward rows above, paired per round): the graph "
             f"over the FusedLSTM layer alone {gain['pre']:.2f}x on pre-padded data, "
             f"{gain['post']:.2f}x on post-padded data."]
    pre = _torch_infer_row(numbers, "lstm_tokens_pre", 256)
    if pre is not None:
        lines[-1] += (f" The pre-padded token classifier at batch 256, twin / zoo: "
                      f"predict {pre['predict_ratio']:.2f}x, call in no_grad "
                      f"{pre['call_nograd_ratio']:.2f}x (0.86x and 0.84x in the run of "
                      "commit 24e7587, before the change).")
    lines[-1] += "\n"
    lines.append(
        "The masked call's other fixed costs (commit 515d1d2): Keras records "
        "`Embedding(mask_zero=True)`'s mask as a `NotEqual` op node and passes it to the "
        "LSTM as `mask=`; the graph filled such arguments in through Keras' general "
        "argument walk (its tree utilities) and ran the op through Keras. Now tensors and "
        "constants given as arguments of their own are looked up directly and the op "
        "runs as `torch.ne`. Predicted: tens of microseconds per call, visible at batch 1 "
        "only.")
    lines[-1] += _predict_at_batch_one(
        numbers, "lstm_tokens_pre", "the pre-padded token classifier",
        before="0.92 ms, 0.57x in the run of commit ee458c2, before it") + "\n"
    return lines


def _torch_infer_row(numbers, case, batch):
    """This run's torch inference row of `case` at `batch`, or None."""
    for row in numbers.get("infer_rows", []):
        if row["backend"] == "torch" and row["case"] == case and row["batch"] == batch:
            return row
    return None


def _predict_at_batch_one(numbers, case, name, before):
    """A sentence with this run's batch-1 `predict` time of `case` and its ratio to the
    twin, `before` (the numbers of an earlier run) in parentheses; "" if not measured."""
    row = _torch_infer_row(numbers, case, 1)
    if row is None:
        return ""
    return (f" Measured, {name}'s `predict` at batch 1: {row['predict'] * 1e3:.2f} ms, "
            f"twin / zoo {row['predict_ratio']:.2f}x ({before}).")


def _goal_table(train_rows, infer_rows):
    """(markdown table of the torch goal ratios of the zoo's defaults, how many are below
    the goal, how many there are)."""
    infer = {(r["case"], r["batch"]): r for r in infer_rows if r["backend"] == "torch"}
    rows, short = [], 0
    for r in train_rows:
        if r["backend"] != "torch" or r["variant"]:
            continue
        cells = [r["label"], _fmt_ratio(r["ratio"], GOALS["train"])]
        short += r["ratio"] < GOALS["train"]
        for batch in INFER_BATCHES:
            for what in ("predict", "call_nograd"):
                value = infer.get((r["case"], batch), {}).get(f"{what}_ratio")
                cells.append(_fmt_ratio(value, GOALS[batch]))
                short += value is not None and value < GOALS[batch]
        rows.append(cells)
    table = _md_table(["family", "training", "predict b1", "call in no_grad b1",
                       "predict b256", "call in no_grad b256"], rows)
    return table, short, len(rows) * 5


def _shortfall_section(train_rows, infer_rows, numbers, layouts):
    lines = ["## Where the zoo falls short of the goal\n",
             f"Goal, on torch: training >= {GOALS['train']}x the twin for every family; "
             f"inference >= {GOALS[256]}x at batch 256 and >= {GOALS[1]}x at batch 1. "
             "Ratios on torch from the tables above, the zoo's defaults only (A/B rows "
             "left out; **below goal** marked). The twin infers under `torch.no_grad()`, "
             "so the direct call is held to the goal in the same mode (the no_grad "
             "columns); a call that records autograd, as `model(x)` does by default in "
             "Keras and in torch, is shown in the inference tables for the record:\n"]
    add = lines.append
    table, short, total = _goal_table(train_rows, infer_rows)
    add(table)
    add(f"\n{short} of {total} torch ratios are below the goal.\n")
    add("### Causes found\n")
    add("Found by profiling (`cProfile`) the torch runs and by the measurements below.\n")
    lines += _keras_path_causes(numbers, train_rows)
    add("- **The direct call records an autograd graph on torch.** `model(x, training=False)` "
        "(the zoo's graph on torch, as Keras' call) leaves gradient tracking on (only "
        "`predict` turns it off); the no_grad columns show what `with torch.no_grad():` "
        "around the call gives.")
    if "layout" in numbers:
        default = layouts.get("convnet")
        add("- **Channels-last convolutions and pooling on torch.** torch's kernels take "
            "NCHW: a channels_last convolution or pooling is transposed to NCHW and back "
            "around each call (convnet channels_last vs channels_first rows"
            + (f"; `data_format=None` ran {default} on torch in this run" if default else "")
            + ").")
    lines += _batch_one_cause(train_rows, infer_rows)
    lines += _other_backends_cause(train_rows, infer_rows)
    add("")
    return "\n".join(lines)


def _keras_path_causes(numbers, train_rows):
    """The "Causes found" bullets on Keras' own torch path, which the Keras-loop rows
    still measure and the zoo's torch loop avoids."""
    lines = []
    loop = numbers.get("loop", {})
    labels = {r["case"]: r["label"] for r in train_rows}
    text = "- **Keras' own torch path: a fixed cost per step and per layer.**"
    if "steps" in numbers:
        s, v = numbers["steps"], numbers["steps_vs_twin"]
        keras_fit = "keras_fit" in s
        text += (f" mlp_classifier, ms per training step of batch {numbers['steps_batch']}: "
                 + (f"Keras' `fit()` {s['keras_fit'] * 1e3:.2f}, " if keras_fit else "")
                 + f"Keras' `train_on_batch` {s['train_on_batch'] * 1e3:.2f}, Keras' "
                 f"`train_step` called directly {s['train_step'] * 1e3:.2f}; the zoo's "
                 f"`fit()` {s['fit'] * 1e3:.2f}; the twin {s['twin'] * 1e3:.2f} (Keras' "
                 f"`train_step` takes {v['train_step']:.1f}x the twin's time, "
                 + (f"Keras' `fit()` {v['keras_fit']:.1f}x, " if keras_fit else "")
                 + f"the zoo's `fit()` {v['fit']:.1f}x). `fit` is the zoo's torch loop; "
                 "`train_on_batch` and `train_step` are Keras' and the zoo leaves them so.")
    text += (" Inside Keras' `train_step` the time goes to Keras' `Layer.__call__` "
             "machinery around every layer (argument and mask handling, autocast and name "
             "scopes, nested-structure maps; the preprocessing-layer path of "
             "`Normalization`, which the MLPs and float-input LSTMs run twice), the loss and "
             "metric objects (running means updated through variable assignments every "
             "step) and the optimizer's bookkeeping; Keras' `fit()` adds its epoch iterator "
             "(a torch DataLoader slicing the numpy arrays) and callbacks dispatched to a "
             "thread pool after every batch. No single part dominated a profile of the "
             "MLP's step (the forward pass through the layers the largest share, under "
             "half, then the backward pass, the optimizer's update, the loss and the "
             "metric), so replacing one layer or object would move a step by a few percent: "
             "the zoo's torch loop replaces the whole path instead (see \"The zoo's torch "
             "loop\" above).")
    gains = sorted(((rows[0][3], labels.get(name, name)) for name, rows in loop.items()
                    if rows[0][3] is not None), reverse=True)
    if gains:
        text += (" The cost is per step and per layer, not per sample; the zoo's loop gains "
                 "most in training where it weighs most (Keras' `fit` -> the zoo's, this "
                 "run, largest gain first: " + "; ".join(
                     f"{label} {_fmt_ratio(g)}" for g, label in gains) + ").")
    if "jit" in numbers:
        text += (f" `jit_compile=True` on torch measured {_fmt_ratio(numbers['jit'][0][3])} "
                 "Keras' eager `fit` (see above).")
    jax = {r["case"]: r["ratio"] for r in train_rows if r["backend"] == "jax"}
    mlps = [(labels[n], jax[n]) for n in ("mlp_regressor", "mlp_classifier") if n in jax]
    if mlps:
        text += (" On JAX, where `jax.jit` compiles Keras' whole step, the MLPs train at "
                 + " and ".join(f"{_fmt_ratio(r)} the twin ({label})" for label, r in mlps)
                 + ".")
    if "steps" in numbers or gains:
        lines.append(text)
    predict = [(labels.get(name, name), a, b, g) for name, rows in loop.items()
               for label, a, b, g in rows if label == "predict batch 1, ms"]
    lines.append(
        "- **Keras' `model.predict` per call.** Every call of Keras' `predict` builds a data "
        "adapter, an epoch iterator, a callback list (and its thread pool) and "
        "concatenates the outputs; at small batches that is most of its time. The zoo's "
        "`predict` on torch converts the array once and makes no callback list when there "
        "is no callback" + (": at batch 1, Keras' `predict` -> the zoo's, ms: " + "; ".join(
            f"{label} {_fmt_ms(a)} -> {_fmt_ms(b)} ({_fmt_ratio(g)})"
            for label, a, b, g in predict) if predict else "") + ".")
    return lines


def _batch_one_cause(train_rows, infer_rows):
    """The "Fixed costs at batch 1" bullet, from the default torch rows of the run."""
    default = {r["case"] for r in train_rows if r["backend"] == "torch"
               and not cases()[r["case"]].is_variant}
    rows = [r for r in infer_rows if r["backend"] == "torch" and r["batch"] == 1
            and r["case"] in default]
    twin = [r["twin"] for r in rows if r["twin"] is not None]
    if not twin:
        return []
    below = []
    for r in rows:
        short = [f"{what} {r[f'{what}_ratio']:.2f}x" for what in ("predict", "call")
                 if r[f"{what}_ratio"] is not None and r[f"{what}_ratio"] < GOALS[1]]
        if short:
            below.append(f"{r['label']} ({', '.join(short)})")
    return [f"- **Fixed costs at batch 1.** At batch 1 the twin's forward pass takes "
            f"{_fmt_ms(min(twin))} to {_fmt_ms(max(twin))} ms in this run. The zoo's graph "
            "still runs each layer as a Python call (a torch function or the layer's own "
            "`call`) and converts the numpy input and the output, and `predict` adds its "
            "(smaller) per-call set-up: a fixed cost that weighs most beside the smallest "
            "forward passes"
            + ". "
            + (f"Below the batch-1 goal on torch in this run: {'; '.join(below)}."
               if below else "Every family reaches the batch-1 goal on torch in this run.")]


def _other_backends_cause(train_rows, infer_rows):
    """The "Other backends" bullet (no goal there), from the run's TensorFlow/JAX rows."""
    def spread(values):
        values = [v for v in values if v is not None]
        return f"{_fmt_ms(min(values))} to {_fmt_ms(max(values))} ms" if values else None

    family = {name: case.family for name, case in cases().items()}
    parts = []
    tf_predict = spread(r["predict"] for r in infer_rows
                        if r["backend"] == "tensorflow" and r["batch"] == 1)
    if tf_predict:
        parts.append(f"TensorFlow's `predict` takes {tf_predict} per call at batch 1, and "
                     "its LSTMs run a `tf.while_loop` without a fused CPU kernel")
    lstm_call = spread(r["call"] for r in infer_rows
                       if r["backend"] in ("tensorflow", "jax") and r["batch"] == 1
                       and family.get(r["case"], "").startswith("lstm_"))
    if lstm_call:
        parts.append("on TensorFlow and JAX the direct call of an LSTM model runs eagerly "
                     f"(JAX re-traces its `lax.scan` on every call): {lstm_call} at batch 1")
    gan = {(r["backend"]): r["ratio"] for r in train_rows if r["case"] == "dcgan"}
    if "jax" in gan:
        gan_infer = [r["call_ratio"] for r in infer_rows if r["backend"] == "jax"
                     and r["case"] == "dcgan" and r["batch"] == max(INFER_BATCHES)]
        parts.append(f"on JAX the DCGAN trains at {_fmt_ratio(gan['jax'])} the twin, slow "
                     "in the gradient of the generator's transposed convolutions on XLA's "
                     "CPU backend, while the forward pass is not"
                     + (f" (direct call at batch {max(INFER_BATCHES)}: "
                        f"{_fmt_ratio(gan_infer[0])} the twin)"
                        if gan_infer and gan_infer[0] is not None else ""))
    if not parts:
        return []
    return ["- **Other backends** (no goal set; for the record): " + "; ".join(parts) + "."]


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated Keras backends (default: all three)")
    parser.add_argument("--cases", default=None,
                        help="comma-separated case names (see --list); all (the default "
                        "on the CPU); defaults (the zoo's default configurations, no A/B "
                        "variants: the default with --device gpu)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="measurements per configuration, alternated (default 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads for torch (OMP_NUM_THREADS), TensorFlow and "
                        "XLA; default: OMP_NUM_THREADS if set, else 1. 0: leave the "
                        "libraries' defaults")
    parser.add_argument("--scale", default="default", choices=("default", "tiny"))
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"),
                        help="where the zoo and the twin compute: gpu (a CUDA GPU; its "
                        "tables go to the page's GPU section), cpu (GPUs hidden), auto "
                        "(default: gpu where torch sees one)")
    parser.add_argument("--doc", default=str(REPO_ROOT / "docs" / "performance.md"),
                        help="where to write the report (default docs/performance.md)")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument("--json", default=None, help="also write the raw times here")
    parser.add_argument("--one-phase", action="store_true",
                        help="measure the A/B rows and sections in the same rounds as the "
                        "goal rows (default: after them, in rounds of their own; see "
                        "PHASES)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--plan", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        return worker_main(args.worker, json.loads(args.plan), args.scale, args.threads,
                           args.device)
    all_cases = cases(args.scale)
    if args.list:
        for name, case in all_cases.items():
            print(f"{name:26s} {case.label}: {case.config} {case.data or ''}")
        return 0
    threads = args.threads
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS") or 1)
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}")
    device = args.device
    if device == "auto":
        device = "gpu" if _torch_sees_a_gpu() else "cpu"
    elif device == "gpu" and not _torch_sees_a_gpu():
        parser.error("--device gpu: torch sees no CUDA GPU here (torch.cuda.is_available() "
                     "is False); install a CUDA build of torch or use --device cpu")
    if args.cases is None:
        args.cases = "defaults" if device == "gpu" else "all"
    if args.cases == "all":
        names = list(all_cases)
    elif args.cases == "defaults":
        names = [name for name, case in all_cases.items() if not case.is_variant]
    else:
        names = args.cases.split(",")
    unknown = set(names) - set(all_cases)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; see --list")
    print(f"benchmark: backends {backends}, {len(names)} cases, {args.rounds} rounds, "
          f"threads {threads or 'library defaults'}, device {device}")
    code = _code_version()
    result = run(names, backends, args.rounds, threads, args.scale,
                 sections=device == "cpu", device=device, phased=not args.one_phase)
    result["date"] = datetime.date.today().isoformat()
    result["code"] = code
    print_tables(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    if not args.no_doc:
        write_doc(args.doc, result, _command_line(argv))
        print(f"\nwrote {args.doc}" + (" (its GPU section)" if device == "gpu" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
