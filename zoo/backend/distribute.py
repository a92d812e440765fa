"""Data-parallel training with each backend's own engine, behind one small interface.

The trainer calls `distribution_scope(enabled)` and uses the object it yields; it never
looks at the backend. What each backend does:

- torch (`distribute_torch`): one process per device, launched by `torchrun`;
  `torch.distributed.init_process_group` from torchrun's environment (NCCL on CUDA,
  gloo on CPU) and the model's torch module wrapped in
  `torch.nn.parallel.DistributedDataParallel`, whose backward hooks average the
  gradients across processes. Each process is fed its own slice of every global batch.
- jax (`distribute_jax`): `keras.distribution.DataParallel` over
  `keras.distribution.list_devices()`, set with `keras.distribution.set_distribution`;
  several hosts: `keras.distribution.initialize()` (`jax.distributed.initialize`).
  Keras shards each batch over the local devices; each process is fed its slice.
- tensorflow (`distribute_tensorflow`): `tf.distribute.MirroredStrategy` (several hosts:
  `MultiWorkerMirroredStrategy` from `TF_CONFIG`); the model is built and compiled
  under `strategy.scope()` and `tf.distribute` splits each global batch.

Exact equivalence with one device: every global batch has `batch_size` rows (the
recipe's), split in equal contiguous parts, one per replica, and each backend averages
the replicas' gradients (DDP's mean, JAX's loss over the global array, TF's loss scaled
by 1/replicas then summed). The last, partial batch of an epoch (m rows) is padded to a
multiple of the replica count with copies of its first rows that get sample weight 0,
and its real rows get weight m'/m (m' the padded size), so that every replica's mean
loss over its equal share averages to the mean over the m real rows: the same gradient
as on one device, up to summation order.

Example (single device: the object the trainer uses when `--distribute` is not given):
    >>> from zoo.backend.distribute import distribution_scope
    >>> with distribution_scope(False) as dist:
    ...     (dist.replicas, dist.is_chief)
    (1, True)
"""

import contextlib
import importlib

import numpy as np

_MODULES = {"torch": "distribute_torch", "tensorflow": "distribute_tensorflow",
            "jax": "distribute_jax"}


class SingleDevice:
    """No distribution: what the trainer does without `--distribute`.

    Subclasses (one per backend) override what differs. Attributes: `replicas` (devices
    training in parallel, all processes together), `processes` (processes fed data
    separately), `rank` (this process's index), `is_chief` (the one process that
    writes checkpoints and the artifact).
    """

    enabled = False
    replicas = 1
    processes = 1
    rank = 0

    @property
    def is_chief(self):
        return self.rank == 0

    def describe(self):
        return "one device"

    def build_scope(self):
        """Context in which the model is created, compiled or loaded."""
        return contextlib.nullcontext()

    def prepare(self, model):
        """Attach the model to the backend's data-parallel engine (after compile)."""
        return model

    def check_batch(self, batch_size):
        if batch_size % self.replicas:
            raise ValueError(
                f"batch_size {batch_size} is not divisible by the {self.replicas} replicas "
                "training in parallel: the per-device batch is batch_size / replicas. "
                "Change train.batch_size in the recipe or the number of devices."
            )

    # -- what each process feeds to `fit` ------------------------------------------------

    def feed(self, x, y, batch_size):
        """`(x, y, sample_weight, batch_size)` for this process's `fit`, from the arrays
        of one epoch in their training order."""
        return x, y, None, batch_size

    def validation(self, validation):
        """`(validation_data, validation_batch_size)` for `fit`."""
        return validation, None

    def reduce_history(self, history):
        """Per-epoch logs averaged over the processes (each saw its share of the data)."""
        return history

    def evaluation_model(self, model):
        """The model to compute test metrics with, in this process."""
        return model

    def barrier(self):
        pass

    def close(self):
        pass


def shard_epoch(x, y, batch_size, replicas, processes, rank):
    """This process's rows of every global batch, with the last batch padded.

    Every global batch of `batch_size` rows of (x, y) is split in `replicas` equal
    contiguous parts; the `replicas // processes` consecutive parts of process `rank`
    are concatenated, batch after batch, so that `fit(batch_size=batch_size //
    processes)` on the result sees this process's share of each global batch. The last
    batch (m rows) is padded to m' rows, a multiple of `replicas` (see the module
    docstring): returns `(x, y, sample_weight, local_batch_size)`.

    Example:
        >>> import numpy as np
        >>> x = np.arange(10)
        >>> xs, ys, w, b = shard_epoch(x, x, batch_size=4, replicas=2, processes=2, rank=1)
        >>> xs.tolist(), w.tolist(), b
        ([2, 3, 6, 7, 9], [1.0, 1.0, 1.0, 1.0, 1.0], 2)
        >>> shard_epoch(np.arange(5), np.arange(5), 4, 2, 1, 0)[2].tolist()
        [1.0, 1.0, 1.0, 1.0, 2.0, 0.0]
    """
    n = len(x)
    index, weight = [], []
    local_parts = replicas // processes
    for start in range(0, n, batch_size):
        rows = np.arange(start, min(start + batch_size, n))
        m = len(rows)
        padded = -(-m // replicas) * replicas
        w = np.full(padded, padded / m)
        if padded > m:
            rows = np.concatenate([rows, np.resize(rows, padded - m)])
            w[m:] = 0.0
        share = padded // replicas * local_parts
        index.append(rows[rank * share:(rank + 1) * share])
        weight.append(w[rank * share:(rank + 1) * share])
    index, weight = np.concatenate(index), np.concatenate(weight).astype("float32")
    return x[index], y[index], weight, batch_size // processes


def free_ports(count=1):
    """`count` distinct TCP ports free on 127.0.0.1 now (all bound at once, then released),
    for a coordinator or workers on this machine.

    Example:
        >>> a, b = free_ports(2)
        >>> a != b and a > 0
        True
    """
    import socket

    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _backend_module():
    import keras

    name = keras.backend.backend()
    if name not in _MODULES:
        raise NotImplementedError(f"--distribute is not available on backend {name!r}.")
    return importlib.import_module(f"zoo.backend.{_MODULES[name]}")


@contextlib.contextmanager
def distribution_scope(enabled):
    """Yield the distribution object the trainer uses: `SingleDevice()` when not
    `enabled`, else the backend's data-parallel set-up (torn down on exit)."""
    if not enabled:
        yield SingleDevice()
        return
    dist = _backend_module().setup()
    try:
        yield dist
    finally:
        dist.close()


def relaunch_command(argv):
    """The command that re-runs `zoo argv...` under the backend's launcher, or None.

    Only torch needs one: `zoo train --distribute` on a machine with several GPUs and
    not under `torchrun` re-runs itself with `torchrun --standalone --nproc_per_node=N`.
    """
    import keras

    if keras.backend.backend() != "torch":
        return None
    from zoo.backend import distribute_torch

    return distribute_torch.relaunch_command(argv)
