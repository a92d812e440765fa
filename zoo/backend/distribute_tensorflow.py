"""Data parallelism on TensorFlow: `tf.distribute.MirroredStrategy`.

The model is created, compiled (and, on resume, loaded) under `strategy.scope()`; Keras'
TensorFlow trainer then distributes each global batch of `fit` over the replicas
(`strategy.experimental_distribute_dataset`), scales each replica's loss by
1/replicas (`keras.losses.loss.scale_loss_for_distribution`) and sums the gradients
with the strategy's all-reduce.

Several hosts: set `TF_CONFIG` on every worker (the cluster and this worker's task, see
https://www.tensorflow.org/guide/distributed_training); `setup` then uses
`tf.distribute.MultiWorkerMirroredStrategy`. Every worker is fed the whole epoch, in the
same order; Keras marks in-memory arrays for `AutoShardPolicy.DATA`, so
`experimental_distribute_dataset` splits each global batch into per-replica batches and
gives each worker its own (worker k: rows `k*b/W .. (k+1)*b/W` of every global batch of
`b` rows, `W` workers of one replica each; checked by
tests/training/test_distributed.py). The chief is task `worker` 0 (or a task of type
`chief`). Keras 3's TensorFlow trainer fails under `MultiWorkerMirroredStrategy` in two
places (keras-team/keras#20585), both worked around here while the strategy is in use:
see `_multi_worker_symbolic_build` and `_multi_worker_logs_reduce`.
"""

import os

import tensorflow as tf

from zoo.backend.distribute import SingleDevice, shard_epoch


class TensorFlowDistributed(SingleDevice):
    enabled = True

    def __init__(self, strategy):
        self.strategy = strategy
        self.replicas = strategy.num_replicas_in_sync
        self.multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        self._restore = []
        if self.multi_worker:
            resolver = strategy.cluster_resolver
            jobs = resolver.cluster_spec().as_dict()
            has_chief = "chief" in jobs
            # workers (and chief), each fed the whole epoch: tf.data gives each its part
            self.processes = sum(len(jobs.get(job, ())) for job in ("chief", "worker"))
            self.rank = 0 if resolver.task_type == "chief" else resolver.task_id + has_chief
            self._restore.append(_multi_worker_logs_reduce())

    def describe(self):
        return (f"tf.distribute.{type(self.strategy).__name__}, {self.replicas} replica(s), "
                f"{self.processes} worker(s)")

    def build_scope(self):
        return self.strategy.scope()

    def prepare(self, model):
        if self.multi_worker:
            _multi_worker_symbolic_build(model, self.strategy)
        return model

    def feed(self, x, y, batch_size):
        # the whole epoch in every worker: Keras' DATA auto-sharding splits each batch
        return shard_epoch(x, y, batch_size, self.replicas, 1, 0)

    def close(self):
        while self._restore:
            self._restore.pop()()


def setup():
    if os.environ.get("TF_CONFIG"):
        return TensorFlowDistributed(tf.distribute.MultiWorkerMirroredStrategy())
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    return TensorFlowDistributed(tf.distribute.MirroredStrategy(devices=devices))


def _local_share(strategy, value):
    """This worker's first replica's part of a distributed value (the value if plain)."""
    if isinstance(value, tf.distribute.DistributedValues):
        return strategy.experimental_local_results(value)[0]
    return value


def _multi_worker_symbolic_build(model, strategy):
    """Give `model` a `_maybe_symbolic_build` that works on several workers.

    Before training (and evaluating), Keras' TensorFlow trainer takes one distributed
    batch and, for its shapes, `strategy.reduce("MEAN", batch)`s the whole
    `(x, y, sample_weight)` structure; `MultiWorkerMirroredStrategy` refuses a structure
    there ("Attempt to convert a value (PerReplica...) ... to a Tensor"), so `fit` fails
    before its first step. Only the shapes and dtypes are used (to build unbuilt metrics,
    losses and optimizer state symbolically): one local replica's share does as well.
    """
    from keras.src import tree

    def maybe_symbolic_build(iterator=None, data_batch=None):
        # keras/src/backend/tensorflow/trainer.py `_maybe_symbolic_build`, without the
        # cross-replica reduce
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(lambda v: _local_share(strategy, v),
                                                next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    object.__setattr__(model, "_maybe_symbolic_build", maybe_symbolic_build)


def _multi_worker_logs_reduce():
    """Replace Keras' `reduce_per_replica` for scalars; returns the function that restores it.

    Keras' TensorFlow trainer reduces each step's logs (loss and metric results, scalars)
    across replicas with `reduce_per_replica(..., "auto")`; on several workers that is
    `strategy.reduce("MEAN", value, axis=0)`, which fails on a scalar ("Invalid reduction
    dimension 0 for input with 0 dimensions"): every `fit` and `evaluate` fails at its
    first step. Scalars are averaged over the replicas (`axis=None`) instead; anything
    else, and any other reduction (`predict`'s "concat"), goes to Keras unchanged.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    keras_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or \
                not tf_trainer._collective_all_reduce_multi_worker(strategy):
            return keras_reduce(values, strategy, reduction)

        def reduce(value):
            if getattr(_local_share(strategy, value), "shape", None) == ():
                return strategy.reduce("MEAN", value, axis=None)
            return keras_reduce(value, strategy, reduction)

        return tree.map_structure(reduce, values)

    tf_trainer.reduce_per_replica = reduce_per_replica
    return lambda: setattr(tf_trainer, "reduce_per_replica", keras_reduce)
