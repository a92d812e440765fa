"""Data-parallel training (`train(..., distribute=True)`, `zoo train --distribute`).

Each backend's multi-device test runs in its own tox environment (skipped on the
others) in fresh processes, since the devices must be set up before the backend starts:
torch with `torchrun --nproc_per_node=2` on gloo, JAX with two virtual CPU devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=2`), TensorFlow with two logical CPU
devices. Each trains the same tiny deterministic recipe (dropout 0, 2 epochs, global
batch 32, seed 0) that this process trains on one device, and the weights must agree
within ATOL: the same batches and the same averaged gradients, only the summation order
of the gradient (two half-batch sums averaged, instead of one sum over the batch) and
the last partial batch's weighting (real rows weighted m'/m, see
`zoo.backend.distribute`) differ, i.e. float32 rounding (observed: <= 1e-7).

The multi-host tests simulate two machines on this one, on loopback (127.0.0.1): two
separate launches, each with one CPU device and its own output folder, joined by each
backend's own multi-host mechanism: two `torchrun --nnodes=2 --node_rank=0/1
--nproc_per_node=1 --master_addr=127.0.0.1 --master_port=P` (gloo), two JAX processes
with `KERAS_DISTRIBUTION_JOB_ADDRESSES/NUM_PROCESSES/PROCESS_ID` (what
`keras.distribution.initialize()` reads), two TensorFlow workers with a `TF_CONFIG` of
two workers (`MultiWorkerMirroredStrategy`). Same checks and tolerance as above, plus:
the non-chief "machine" writes nothing, and on TensorFlow (where tf.data, not zoo,
splits the batches) each worker trained on its own half of every global batch.
"""

import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import yaml

from tests.helpers import REPO_ROOT, as_numpy
from zoo import data
from zoo.backend.distribute import SingleDevice, distribution_scope, free_ports, shard_epoch
from zoo.training.recipe import parse_recipe
from zoo.training.trainer import _epoch_order, train

ATOL = 1e-5
WORKER = REPO_ROOT / "tests" / "training" / "distributed_worker.py"
BACKEND = keras.backend.backend()


# The tiny recipes: a recipe file and its smaller model. "lstm": the digits-rows recipe's
# bidirectional FusedLSTM (on torch its kernels are stored column-major; DDP broadcasts
# and all-reduces into them).
TINY = {"mlp": ("mlp_classifier.breast_cancer.yaml", dict(units=8, dropout=0.0)),
        "lstm": ("lstm_classifier.digits_rows.yaml", dict(units=[8]))}


def tiny_recipe(kind="mlp"):
    path, config = TINY[kind]
    raw = yaml.safe_load((REPO_ROOT / "recipes" / path).read_text())
    raw["train"]["epochs"] = 2
    raw["model"]["config"].update(config)
    return parse_recipe(raw, source=f"recipes/{path}")


def tiny_train_x():
    """The training inputs of `tiny_recipe()`, in the split's order."""
    recipe = tiny_recipe()
    return data.load_splits(recipe.data.dataset, recipe.data.scheme,
                            **recipe.data.options)["train"][0]


# -- the batch split, backend-independent ----------------------------------------------

@pytest.mark.parametrize("n,batch,replicas,processes", [
    (399, 32, 2, 2), (399, 32, 2, 1), (10, 4, 4, 2), (7, 6, 3, 1), (64, 32, 2, 2)])
def test_shards_cover_every_global_batch_with_the_exact_mean_weight(n, batch, replicas,
                                                                    processes):
    x = np.arange(n, dtype="float64")
    shards = [shard_epoch(x, x, batch, replicas, processes, r) for r in range(processes)]
    local = batch // processes
    assert all(s[3] == local for s in shards)
    steps = -(-n // batch)
    for k in range(steps):
        rows = np.arange(k * batch, min((k + 1) * batch, n))
        xs = np.concatenate([s[0][k * local:(k + 1) * local] for s in shards])
        ws = np.concatenate([s[2][k * local:(k + 1) * local] for s in shards])
        assert len(xs) % replicas == 0 and set(xs) == set(rows)
        # each replica averages its equal share, the engine averages the replicas:
        # sum(w * value) / padded size is the mean over the real rows
        np.testing.assert_allclose(np.sum(ws * xs) / len(xs), rows.mean(), rtol=1e-6)


def test_without_distribute_the_trainer_gets_the_single_device_object():
    with distribution_scope(False) as dist:
        assert type(dist) is SingleDevice and dist.is_chief and dist.replicas == 1
        x = np.arange(5)
        assert dist.feed(x, x, 4)[2:] == (None, 4)


def test_a_global_batch_not_divisible_by_the_replicas_is_refused():
    dist = SingleDevice()
    dist.replicas = 3
    with pytest.raises(ValueError, match="not divisible by the 3 replicas"):
        dist.check_batch(32)


# -- one device vs two, per backend ----------------------------------------------------

@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "artifact"
    return train(tiny_recipe(), out, verbose=0)


@pytest.fixture(scope="module")
def single_device_lstm(tmp_path_factory):
    out = tmp_path_factory.mktemp("single_lstm") / "artifact"
    return train(tiny_recipe("lstm"), out, verbose=0)


def _run_together(launches, tmp_path, timeout=240, ok=(0,)):
    """Start every `(command, env_extra)` at once (e.g. one per simulated machine) and
    wait for all; when one fails the others are stopped (they would wait for it). Returns
    each one's output (stdout and stderr together)."""
    logs, procs = [], []
    try:
        for i, (command, env_extra) in enumerate(launches):
            env = {**os.environ, "KERAS_BACKEND": BACKEND, "TF_CPP_MIN_LOG_LEVEL": "3",
                   "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT), **env_extra}
            logs.append(tmp_path / f"launch{i}.log")
            with logs[-1].open("w") as log:
                procs.append(subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log,
                                              stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            if any(p.poll() not in (None, *ok) for p in procs):
                break
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    outputs = [log.read_text() for log in logs]
    for (command, _), p, out in zip(launches, procs, outputs):
        assert p.returncode in ok, f"{command} failed ({p.returncode}):\n{out[-6000:]}"
    return outputs


def _run(command, env_extra, tmp_path, timeout=240, ok=(0,)):
    return _run_together([(command, env_extra)], tmp_path, timeout, ok)[0]


def _check_against_single_device(single_device, out, report, replicas, processes=None,
                                 kind="mlp"):
    assert report["is_chief"] and report["distributed"]["replicas"] == replicas
    if processes is not None:
        assert report["distributed"]["processes"] == processes
    for got, want in zip(report["weights"], single_device.model.get_weights()):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=ATOL)
    assert report["metrics"] == pytest.approx(single_device.metrics, abs=1e-6)
    assert len(report["history"]["loss"]) == 2
    np.testing.assert_allclose(report["history"]["loss"], single_device.history["loss"],
                               rtol=1e-2)  # logs count the padding row: see docs
    # the chief's artifact loads and predicts like the single-device model
    assert not (out / "checkpoint").exists()
    loaded = keras.saving.load_model(out, safe_mode=True)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["zoo"]["distributed"]["replicas"] == replicas
    x, _ = data.load(tiny_recipe(kind).data.dataset, "test")
    np.testing.assert_allclose(as_numpy(loaded.predict(x, verbose=0)),
                               as_numpy(single_device.model.predict(x, verbose=0)), atol=ATOL)


@pytest.mark.distributed
@pytest.mark.skipif(BACKEND != "torch", reason="runs in the torch tox environment")
def test_torchrun_two_processes_match_one_device(single_device, tmp_path):
    out, result = tmp_path / "artifact", tmp_path / "result.json"
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
          str(WORKER), str(out), str(result), "1"], {}, tmp_path)
    chief = json.loads(result.read_text())
    other = json.loads((tmp_path / "result.json.1").read_text())
    assert not other["is_chief"]
    for a, b in zip(chief["weights"], other["weights"]):  # DDP kept the replicas in sync
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    _check_against_single_device(single_device, out, chief, 2)


@pytest.mark.distributed
@pytest.mark.skipif(BACKEND != "torch", reason="runs in the torch tox environment")
def test_torchrun_trains_the_bidirectional_fused_lstm_as_one_device(single_device_lstm,
                                                                   tmp_path):
    """The digits-rows recipe's bidirectional FusedLSTM under DDP: the replicas stay in
    sync, match one device, and keep the kernels' column-major storage."""
    out, result = tmp_path / "artifact", tmp_path / "result.json"
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
          str(WORKER), str(out), str(result), "1"], {"ZOO_TEST_RECIPE": "lstm"}, tmp_path)
    chief = json.loads(result.read_text())
    other = json.loads((tmp_path / "result.json.1").read_text())
    for a, b in zip(chief["weights"], other["weights"]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # kernel and recurrent_kernel of both directions, column-major: (1, rows)
    assert len(chief["lstm_kernel_strides"]) == 4
    assert all(s == [1, rows] for s, rows in chief["lstm_kernel_strides"])
    _check_against_single_device(single_device_lstm, out, chief, 2, kind="lstm")


# How one process gets two CPU devices: JAX (DataParallel) and TF (MirroredStrategy).
TWO_DEVICES_ENV = {"jax": {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
                   "tensorflow": {"ZOO_TEST_TF_LOGICAL_CPUS": "2"}}


@pytest.mark.distributed
@pytest.mark.parametrize("backend", [
    pytest.param(b, marks=pytest.mark.skipif(BACKEND != b, reason=f"runs in the {b} tox "
                                             "environment")) for b in sorted(TWO_DEVICES_ENV)])
def test_one_process_on_two_devices_matches_one_device(backend, single_device, tmp_path):
    out, result = tmp_path / "artifact", tmp_path / "result.json"
    _run([sys.executable, str(WORKER), str(out), str(result), "1"], TWO_DEVICES_ENV[backend],
         tmp_path)
    _check_against_single_device(single_device, out, json.loads(result.read_text()), 2)


# -- two "machines" on loopback, one device each, per backend ---------------------------

def _two_hosts(single_device, tmp_path, command, host_env):
    """Launch `command(host)` with env `host_env(host)` for hosts 0 and 1 at once, each
    with its own folder `tmp_path/host<i>` (artifact, result), as on two machines
    without a shared file system; check host 0 (the chief) against one device and that
    host 1 wrote nothing but its result. Returns both reports."""
    dirs = [tmp_path / f"host{h}" for h in range(2)]
    for d in dirs:
        d.mkdir()
    _run_together([(command(h, d / "artifact", d / "result.json"), host_env(h))
                   for h, d in enumerate(dirs)], tmp_path)
    chief, other = (json.loads((d / "result.json").read_text()) for d in dirs)
    assert not other["is_chief"] and not (dirs[1] / "artifact").exists()
    assert sorted(p.name for p in dirs[1].iterdir()) == ["result.json"]
    for a, b in zip(chief["weights"], other["weights"]):  # the replicas stayed in sync
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    _check_against_single_device(single_device, dirs[0] / "artifact", chief, 2, processes=2)
    return chief, other


@pytest.mark.distributed
@pytest.mark.skipif(BACKEND != "torch", reason="runs in the torch tox environment")
def test_torchrun_on_two_simulated_hosts_matches_one_device(single_device, tmp_path):
    """Two `torchrun --nnodes=2 --node_rank=N --nproc_per_node=1` launches (gloo)."""
    port = free_ports()[0]
    _two_hosts(single_device, tmp_path, lambda host, out, result: [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=2",
        f"--node_rank={host}", "--nproc_per_node=1", "--master_addr=127.0.0.1",
        f"--master_port={port}", str(WORKER), str(out), str(result), "1"], lambda host: {})


@pytest.mark.distributed
@pytest.mark.skipif(BACKEND != "jax", reason="runs in the jax tox environment")
def test_jax_on_two_simulated_hosts_matches_one_device(single_device, tmp_path):
    """Two processes joined by `keras.distribution.initialize()` from the documented
    `KERAS_DISTRIBUTION_*` variables (`jax.distributed.initialize`), one CPU device each."""
    port = free_ports()[0]
    _two_hosts(single_device, tmp_path,
               lambda host, out, result: [sys.executable, str(WORKER), str(out), str(result),
                                          "1"],
               lambda host: {"XLA_FLAGS": "--xla_force_host_platform_device_count=1",
                             "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
                             "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                             "KERAS_DISTRIBUTION_PROCESS_ID": str(host)})


@pytest.mark.distributed
@pytest.mark.skipif(BACKEND != "tensorflow", reason="runs in the tensorflow tox environment")
def test_tf_multi_worker_on_two_simulated_hosts_matches_one_device(single_device, tmp_path):
    """Two workers with a TF_CONFIG of two workers on 127.0.0.1 (MultiWorkerMirroredStrategy).

    Both are fed the whole epoch and tf.data splits it; each replica's train step records
    its rows, which must be exactly what torch and JAX feed process k: its half of every
    global batch of the one-device order (`shard_epoch`). The weights alone would not
    show it: a replica training on the full batch twice, its loss scaled by 1/2 and
    summed, gives the same gradient."""
    cluster = [f"127.0.0.1:{port}" for port in free_ports(2)]
    reports = _two_hosts(
        single_device, tmp_path,
        lambda host, out, result: [sys.executable, str(WORKER), str(out), str(result), "1"],
        lambda host: {"ZOO_TEST_TF_RECORD_ROWS": "1", "TF_CONFIG": json.dumps(
            {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": host}})})
    recipe = tiny_recipe()
    batch, n = recipe.train.batch_size, len(tiny_train_x())
    steps = -(-n // batch)
    for host, report in enumerate(reports):
        assert len(report["rows"]) == recipe.train.epochs * steps
        for epoch in range(recipe.train.epochs):
            order = _epoch_order(recipe.train.seed, epoch, n)
            got = report["rows"][epoch * steps:(epoch + 1) * steps]
            assert all(len(step) == batch // 2 for step in got[:-1])
            assert sum(got, []) == shard_epoch(order, order, batch, 2, 2, host)[0].tolist()


@pytest.mark.distributed
@pytest.mark.skipif(BACKEND != "torch", reason="runs in the torch tox environment")
def test_cli_distribute_on_one_cpu_process_trains_and_writes_the_artifact(tmp_path):
    """`zoo train --distribute` outside torchrun: a process group of one (gloo)."""
    out = tmp_path / "run"
    output = _run([sys.executable, "-m", "zoo.cli", "train",
                   "recipes/mlp_classifier.breast_cancer.yaml", "--epochs", "1", "--quiet",
                   "--distribute", "--output", str(out)], {}, tmp_path, timeout=120,
                  ok=(0, 3))  # 3: trained, but one epoch misses the recipe's target
    assert "DistributedDataParallel, 1 process(es), gloo on cpu" in output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["zoo"]["distributed"]["replicas"] == 1


def test_docstring_examples():
    import doctest

    from zoo.backend import devices, distribute

    for module in (distribute, devices):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module
