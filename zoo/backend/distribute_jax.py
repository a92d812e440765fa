"""Data parallelism on JAX: `keras.distribution.DataParallel` over every device.

`keras.distribution.set_distribution(DataParallel(devices=list_devices()))` makes Keras
replicate the variables on a 1-D device mesh and shard each batch along it; the train
step is jit-compiled over global arrays, so the loss is the mean over the whole global
batch and XLA inserts the cross-device reduction of the gradients.

Several hosts: set `KERAS_DISTRIBUTION_JOB_ADDRESSES` (the coordinator's host:port),
`KERAS_DISTRIBUTION_NUM_PROCESSES` and `KERAS_DISTRIBUTION_PROCESS_ID` on every host;
`setup` then calls `keras.distribution.initialize()` (`jax.distributed.initialize`)
before JAX starts, and each process feeds its own slice of every global batch (Keras
treats numpy batches as process-local data: `jax.make_array_from_process_local_data`).
"""

import os

import keras

from zoo.backend.distribute import SingleDevice, shard_epoch


class JaxDistributed(SingleDevice):
    enabled = True

    def __init__(self, distribution):
        import jax

        self.distribution = distribution
        self.replicas = distribution.num_model_replicas
        self.processes = jax.process_count()
        self.rank = jax.process_index()

    def describe(self):
        import jax

        return (f"keras.distribution.DataParallel over {self.replicas} "
                f"{jax.devices()[0].platform} device(s), {self.processes} process(es)")

    def prepare(self, model):
        """Make `model.save` run with the distribution unset.

        The chief alone saves the per-epoch checkpoint, and with several processes any
        variable created under the distribution is a cross-process collective
        (`jax.device_put` onto the global mesh checks that every process passes the same
        value): Keras' saving creates one (a reference `Optimizer`), which the other
        processes never match. Without the distribution it is a local variable; the
        model's replicated weights are read from this process's copy.
        """
        save = model.save

        def save_without_distribution(*args, **kwargs):
            previous = keras.distribution.distribution()
            keras.distribution.set_distribution(None)
            try:
                return save(*args, **kwargs)
            finally:
                keras.distribution.set_distribution(previous)

        object.__setattr__(model, "save", save_without_distribution)
        return model

    def feed(self, x, y, batch_size):
        if (batch_size // self.processes) % (self.replicas // self.processes):
            raise ValueError("the per-process batch is not divisible by the local devices")
        return shard_epoch(x, y, batch_size, self.replicas, self.processes, self.rank)

    def validation(self, validation):
        if validation is None:
            return None, None
        # One padded, weighted batch: its loss is exactly the mean over the split.
        xv, yv, wv, _ = shard_epoch(*validation, len(validation[0]), self.replicas,
                                    self.processes, self.rank)
        return (xv, yv, wv), len(xv)

    def evaluation_model(self, model):
        """A copy of the trained model on one device of this process: training is over,
        the distribution is unset and every process computes the test metrics over the
        full split (the replicated weights are identical everywhere)."""
        import tempfile

        keras.distribution.set_distribution(None)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            model.save(path)
            return keras.saving.load_model(path, safe_mode=True)

    def close(self):
        keras.distribution.set_distribution(None)


def setup():
    if os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES") or os.environ.get(
            "KERAS_DISTRIBUTION_JOB_ADDRESSES"):
        keras.distribution.initialize()
    distribution = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices(), auto_shard_dataset=False)
    keras.distribution.set_distribution(distribution)
    return JaxDistributed(distribution)
