"""GPU tier: runs only where the current backend sees a GPU, skipped with a reason
otherwise (never faked on a CPU).

Run it on a GPU machine with `scripts/gpu_check.sh` or `KERAS_BACKEND=torch pytest -m gpu`.
What it checks, on the backend named by KERAS_BACKEND:

- the variables of every registry model are created on the GPU, and a training step
  runs there (the variables stay on the GPU and the loss goes down);
- on torch, FusedLSTM takes the fused kernel (`torch._VF.lstm`, cuDNN on CUDA) with
  CUDA tensors;
- parity: outputs computed on the GPU match the same saved model's outputs in a fresh
  CPU-only process within GPU_CPU_ATOL (float32, TF32 disabled: the remaining
  difference is the kernels' summation order, cuDNN's included);
- `train(..., distribute=True)` on the GPU(s): NCCL on torch, DataParallel on JAX,
  MirroredStrategy on TensorFlow.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.helpers import REPO_ROOT, as_numpy, tiny_model
from zoo.backend import devices

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not devices.gpu_available(),
        reason=f"no GPU on this machine ({keras.backend.backend()} sees none): GPU tier not run"),
]

GPU_CPU_ATOL = 1e-4  # float32 with TF32 off; cuDNN/cuBLAS sum in another order than CPU
PARITY_MODELS = ("mlp_regressor", "mlp_classifier", "convnet", "lstm_classifier",
                 "lstm_forecaster")
ALL_MODELS = PARITY_MODELS + ("dcgan", "conditional_gan")


@pytest.fixture(autouse=True)
def _full_float32():
    devices.disable_tf32()


@pytest.mark.parametrize("arch", ALL_MODELS)
def test_variables_are_created_on_the_gpu(arch):
    model, _, _ = tiny_model(arch)
    placed = {v.path: devices.device_type(v) for v in model.variables}
    assert set(placed.values()) == {"gpu"}, placed


@pytest.mark.parametrize("arch", PARITY_MODELS)
def test_a_training_step_runs_on_the_gpu_and_lowers_the_loss(arch):
    model, x, y = tiny_model(arch)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = model.loss_on(x, y)
    model.fit(x, y, epochs=5, batch_size=len(x), verbose=0)
    assert model.loss_on(x, y) < before
    assert {devices.device_type(v) for v in model.trainable_variables} == {"gpu"}
    assert devices.device_type(model(x[:4])) == "gpu"


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the fused-LSTM dispatch is torch's (TF and JAX pick cuDNN "
                           "inside keras.layers.LSTM)")
def test_fused_lstm_runs_the_cudnn_kernel_on_cuda(monkeypatch):
    import torch

    from zoo.backend import torch_lstm

    calls = []
    real = torch_lstm._VF

    class Spy:
        def lstm(self, *args):
            calls.append(args[0].device.type)
            return real.lstm(*args)

    monkeypatch.setattr(torch_lstm, "_VF", Spy())
    model, x, y = tiny_model("lstm_classifier")
    model.predict(x, verbose=0)
    assert calls and set(calls) == {"cuda"}, calls
    assert torch.backends.cudnn.is_available() and torch.backends.cudnn.enabled


def test_gpu_outputs_match_a_cpu_only_process(tmp_path):
    for arch in PARITY_MODELS:
        model, x, _ = tiny_model(arch)
        y = as_numpy(model.predict(x, verbose=0))
        model.save(tmp_path / f"{arch}.keras")
        np.savez(tmp_path / f"{arch}.npz", y=y, x0=x)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu",
           "KERAS_BACKEND": keras.backend.backend(), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "tests" / "parity_worker.py"),
                           str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=600, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report.pop("_backend")
    assert set(report) == set(PARITY_MODELS)
    assert max(report.values()) <= GPU_CPU_ATOL, report


def test_distributed_training_on_the_gpus(tmp_path):
    from tests.training.test_distributed import tiny_recipe
    from zoo.training.trainer import train

    result = train(tiny_recipe(), tmp_path / "run", verbose=0, distribute=True)
    # torch: one process here (torchrun starts one per GPU); JAX and TF: every GPU
    expected = 1 if keras.backend.backend() == "torch" else devices.gpu_count()
    assert result.metadata["distributed"]["replicas"] == expected
    assert {devices.device_type(v) for v in result.model.trainable_variables} == {"gpu"}
    assert (tmp_path / "run" / "metadata.json").is_file()
