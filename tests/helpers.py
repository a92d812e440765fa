"""Helpers shared by the test modules."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo

REPO_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("torch", "tensorflow", "jax")


def tiny_model(arch_name, **overrides):
    """The architecture's small test configuration, adapted on its example batch."""
    arch = zoo.get_architecture(arch_name)
    model = arch.build(**{**arch.tiny, **overrides})
    x, y = model.example_batch(32, seed=0)
    model.adapt(x, y)
    return model, x, y


def as_numpy(outputs):
    """Model outputs (a tensor or nested list of tensors) as numpy arrays."""
    import keras

    if isinstance(outputs, (list, tuple)):
        return [as_numpy(o) for o in outputs]
    return np.asarray(keras.ops.convert_to_numpy(outputs))


def require_installed(backend):
    """Skip the calling test where `backend`'s library is not installed (the tox
    environment on the oldest supported Keras has torch only)."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed in this environment")


def run_on_backend(backend, script, *args, timeout=600):
    """Run `python script args...` in a fresh process on `backend`; returns parsed JSON
    that the script printed as its last line. Skips where `backend` is not installed."""
    require_installed(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, str(script), *map(str, args)], env=env, capture_output=True,
        text=True, timeout=timeout, cwd=REPO_ROOT,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{script} on {backend} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])
