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
backend; tests/test_benchmark.py uses it on tiny sizes. This file holds the zoo side,
the measurements, the worker processes and the command line; beside it
benchmark_cases.py (the cases, their data, the plan of a run and its medians),
benchmark_twins.py (the hand-written PyTorch twins) and benchmark_report.py (the tables
and docs/performance.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its benchmark_* modules
from benchmark_cases import (  # noqa: E402
    BACKENDS, PHASES, REPO_ROOT, SEED, TWIN, cases, inference_inputs, lstm_kernel_sizes,
    make_data, pad_tokens, plan_items)
from benchmark_report import print_tables, write_doc  # noqa: E402
from benchmark_twins import build_twin, sync, torch_device, twin_kernel_net  # noqa: E402



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
    if case.keras_call and keras.backend.backend() == "torch":  # the graph is torch's
        _run_keras_call(model, case.keras_call)
    return model


def _run_keras_call(model, class_names):
    """In the zoo's torch graph of `model`, run the layers of `class_names` through their
    own `call`, as before their lowering, and an `Embedding` that one of them reads as
    an `Embedding` of its own (not embedded inside the reader's step)."""
    from zoo.backend import torch_lowering
    from zoo.backend.torch_graph import TorchGraph

    graph = TorchGraph.of(model)
    steps = [step for step in graph.steps if type(step.layer).__name__ in class_names]
    if not steps:
        raise ValueError(f"no layer of {class_names} in {model.name}'s graph")
    read = {key for step in steps for key in step.inputs}
    for step in graph.steps:
        if step in steps:
            step.run = step.layer.call
        elif step.run is torch_lowering.token_ids and step.outputs[0] in read:
            step.run = torch_lowering.lower(step.layer)


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
            return _fit_fn(model, case, n)
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
        return _fit_fn(self.models[key], case, case.samples_on(self.worker))

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
            net = twin_kernel_net(s, variant).to(device)
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


def _fit_fn(model, case, n):
    """One `fit()` epoch of `model` over the first `n` samples of `case`'s data."""
    x, y = make_data(case, case.samples)
    y = None if y is None else y[:n]
    return functools.partial(model.fit, x[:n], y, batch_size=case.batch, epochs=1,
                             verbose=0)


def _store_lstm_kernels_row_major(model):
    """Give `model`'s LSTM kernels the row-major memory of keras.layers.LSTM's variables
    (values unchanged; FusedLSTM stores them column-major on torch). Before training: the
    optimizer's slots take the layout when the zoo's loop first builds its Adam step."""
    import keras

    from zoo.backend import torch_storage

    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.LSTM):
            torch_storage.row_major(layer.cell.kernel)
            torch_storage.row_major(layer.cell.recurrent_kernel)


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
    """Serve one process: build + warm up the plan's first-phase items for `worker`,
    print "ready", then answer each item id read from stdin with its time, and each
    "phase N" with the build + warm-up of that phase's items. JSON lines on the original
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
    proto.write(json.dumps({"ready": True, **_prepare_phase(bench, items.values(), 0),
                            "device": where, "versions": _versions(),
                            "threads": _thread_report(worker),
                            "malloc": {k: os.environ.get(k) for k in FIXED_MALLOC}}) + "\n")
    for line in iter(sys.stdin.readline, ""):
        request = line.strip()
        if request.startswith("phase "):
            phase = int(request.split()[1])
            proto.write(json.dumps({"phase": phase,
                                    **_prepare_phase(bench, items.values(), phase)}) + "\n")
        elif request:
            proto.write(json.dumps({"id": request, "s": bench.measure(items[request])}) + "\n")


def _prepare_phase(bench, items, phase):
    """Build and warm up the items of one phase (each phase's when the phase starts, so
    the goal rows' processes have run nothing of the A/B rows' yet: Keras' Python-loop
    LSTM warmed up beforehand slowed the torch worker's float-sequence LSTM epochs)."""
    info = dict(params={}, calls={}, layers={}, layouts={}, warmup={})
    for item in items:
        if item.get("phase", 0) != phase:
            continue
        if item["what"] != "kernel":
            info["params"][item["case"]] = bench.trainable_params(item["case"])
            if bench.worker != TWIN:
                model = bench.model(item["case"])
                info["layers"][item["case"]] = zoo_layer_count(model)
                info["layouts"][item["case"]] = zoo_conv_layout(model)
        start = time.perf_counter()
        info["calls"][item["id"]] = bench.prepare(item)
        info["warmup"][item["id"]] = time.perf_counter() - start
    return info


# glibc malloc's thresholds in every worker process (`--malloc fixed`, the default): the
# values `zoo.training.allocator.keep_heap()` sets (its docstring says why; the page's
# Method what glibc's defaults did to a run), given as glibc's environment variables so
# they hold from the process' start and the twin's process imports nothing of the zoo's.
FIXED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20),
                "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


class _Worker:
    def __init__(self, name, plan, scale, threads, log_dir, device="cpu", malloc="fixed"):
        env = dict(os.environ)
        if malloc == "fixed":
            for key, value in FIXED_MALLOC.items():
                env.setdefault(key, value)  # a value set by the caller is kept
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

    def send(self, request):
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()

    def ask(self, item_key):
        self.send(item_key)
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
        device="cpu", phased=True, malloc="fixed"):
    if malloc not in ("fixed", "default"):
        raise ValueError(f"malloc is 'fixed' or 'default', got {malloc!r}")
    plan = plan_items(case_names, backends, scale, sections, phased)
    names = [w for w in (TWIN, *backends) if any(i["worker"] == w for i in plan)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as log_dir:
        workers = {n: _Worker(n, plan, scale, threads, log_dir, device, malloc)
                   for n in names}
        try:
            info = {}
            for name, worker in workers.items():
                info[name] = worker.read()
                log(f"  {name}: ready ({time.perf_counter() - started:.0f} s)")
            setup_s = time.perf_counter() - started
            times = {item["id"]: [] for item in plan}
            for phase, label in enumerate(PHASES):
                items = [item for item in plan if item.get("phase", 0) == phase]
                if phase and items:  # built and warmed up now, in every process at once
                    start = time.perf_counter()
                    for worker in workers.values():
                        worker.send(f"phase {phase}")
                    for name, worker in workers.items():
                        answer = worker.read()
                        assert answer.pop("phase") == phase, answer
                        for key, values in answer.items():  # what _prepare_phase gives
                            info[name][key].update(values)
                    setup_s += time.perf_counter() - start
                    log(f"  {label}: ready ({time.perf_counter() - started:.0f} s)")
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
        malloc={n: a["malloc"] for n, a in info.items()},
        setup_s=setup_s, wall_s=time.perf_counter() - started, phased=phased,
    )



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
    parser.add_argument("--malloc", default="fixed", choices=("fixed", "default"),
                        help="glibc malloc in the worker processes: fixed mmap and trim "
                        "thresholds (default; see FIXED_MALLOC) or glibc's defaults")
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
                 sections=device == "cpu", device=device, phased=not args.one_phase,
                 malloc=args.malloc)
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
