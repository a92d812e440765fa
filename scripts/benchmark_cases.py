"""What scripts/benchmark.py measures: the cases (zoo configurations and sizes), their
synthetic data, and the items of a run (what is timed, in which phase and order), with the
medians and paired ratios over its rounds. Shared by the benchmark, its report and the
twins; imports no deep-learning library."""

from __future__ import annotations

import dataclasses
import statistics
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
    # Keras layer classes (names) the zoo's torch graph runs through their own `call`
    # rather than its torch lowering: the A/B of a lowering.
    keras_call: tuple = ()

    @property
    def samples(self):
        return self.batch * self.steps

    @property
    def is_variant(self):
        """An A/B row (Keras' layers, other compile arguments, Keras' loop, a forced
        convolution layout), not a zoo default."""
        return (self.keras_layers or self.keras_loop or bool(self.compile)
                or bool(self.keras_call) or "data_format" in self.config)

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
    # the IMDB recipe's network (recipes/lstm_classifier.imdb.yaml)
    imdb = dict(tokens, embedding_dim=pick(128, 4), units=pick((64, 64), (4, 4)),
                bidirectional=True)
    floats = dict(num_classes=10, sequence_length=pick(28, 6), num_features=pick(28, 3),
                  units=(pick(64, 4),))
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
        # The IMDB recipe's network (recipes/lstm_classifier.imdb.yaml): two stacked
        # bidirectional LSTM(64) over a 128-d embedding, batch 32, pre-padded reviews.
        Case("lstm_tokens_bidirectional", "lstm_classifier",
             "lstm_classifier tokens, 2 bidirectional layers (IMDB recipe)",
             pick(32, 4), pick(4, 2), imdb, data=dict(padding="pre")),
        # ... with Bidirectional through its own call in the zoo's torch graph (each
        # direction a Keras layer call; as before its lowering)
        Case("lstm_tokens_bidirectional_keras_call", "lstm_classifier",
             "lstm_classifier tokens, 2 bidirectional layers, Keras' Bidirectional call",
             pick(32, 4), pick(4, 2), imdb, data=dict(padding="pre"), backends=("torch",),
             keras_call=("Bidirectional",)),
        Case("lstm_floats", "lstm_classifier", "lstm_classifier float sequences",
             pick(64, 4), pick(8, 2), floats),
        # bidirectional, as recipes/lstm_classifier.digits_rows.yaml (no mask)
        Case("lstm_floats_bidirectional", "lstm_classifier",
             "lstm_classifier float sequences, bidirectional", pick(64, 4), pick(8, 2),
             dict(floats, bidirectional=True)),
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
